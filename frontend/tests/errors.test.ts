import { describe, expect, it } from 'vitest';
import { ApiError } from '@/api/client';
import { mapApiError, validateRegistration } from '@/api/errors';

describe('error code → field message', () => {
  it.each([
    ['email_taken', 409, 'email'],
    ['username_taken', 409, 'username'],
    ['password_too_short', 400, 'password'],
    ['request_pending', 409, 'code'],
    ['already_member', 409, 'code'],
    ['last_admin', 409, 'form'],
  ])('%s goes to the %s field', (code, status, field) => {
    const mapped = mapApiError(new ApiError(status, code, 'x'));
    expect(Object.keys(mapped)).toEqual([field]);
    expect(mapped[field]).toBeTruthy();
  });

  it('maps a 401 on the login form to wrong credentials', () => {
    const mapped = mapApiError(new ApiError(401, 'unauthenticated', 'nope'), 'login');
    expect(mapped.form).toMatch(/wrong/i);
  });

  it('maps a 404 on a join form to the code field and on an email form to the email field', () => {
    expect(mapApiError(new ApiError(404, 'not_found', ''), 'join').code).toMatch(/no team/i);
    expect(mapApiError(new ApiError(404, 'not_found', ''), 'email').email).toMatch(/no user/i);
  });

  it('places an unknown 400 code by the field its name mentions', () => {
    expect(mapApiError(new ApiError(400, 'username_too_long', 'Too long')).username).toBe('Too long');
  });

  it('uses status messages for server trouble and rate limits', () => {
    expect(mapApiError(new ApiError(503, 'unavailable', '')).form).toMatch(/unavailable/i);
    expect(mapApiError(new ApiError(429, 'slow_down', '')).form).toMatch(/too many/i);
    expect(mapApiError(new ApiError(0, 'network_error', '')).form).toMatch(/reach/i);
  });

  it('validates registration fields like the API does', () => {
    expect(validateRegistration({ username: 'ab', email: 'x', password: 'short' })).toEqual({
      username: expect.any(String),
      email: expect.any(String),
      password: expect.any(String),
    });
    expect(validateRegistration({ username: 'ana.b-1', email: 'ana@example.com', password: '12345678' })).toEqual({});
  });
});
