// Maps API error codes to messages placed under the form field they concern.
import { ApiError } from './client';

export type FormErrors<F extends string = string> = Partial<Record<F | 'form', string>>;

interface Rule {
  field: string;
  message: string;
}

/** Known codes from the API contract, with the field they belong to. */
const RULES: Record<string, Rule> = {
  email_taken: { field: 'email', message: 'This email is already registered.' },
  username_taken: { field: 'username', message: 'This username is taken.' },
  password_too_short: { field: 'password', message: 'Use at least 8 characters.' },
  invalid_email: { field: 'email', message: 'Enter a valid email address.' },
  email_invalid: { field: 'email', message: 'Enter a valid email address.' },
  invalid_username: { field: 'username', message: 'Use 3–32 letters, digits, “_”, “.” or “-”.' },
  username_invalid: { field: 'username', message: 'Use 3–32 letters, digits, “_”, “.” or “-”.' },
  invalid_credentials: { field: 'form', message: 'Wrong username, email or password.' },
  already_member: { field: 'code', message: 'You are already a member of this team.' },
  request_pending: { field: 'code', message: 'Your request to join is already waiting for approval.' },
  last_admin: { field: 'form', message: 'A team needs at least one admin. Promote someone first.' },
  rate_limited: { field: 'form', message: 'Too many attempts. Wait a moment and try again.' },
};

const BY_STATUS: Record<number, string> = {
  0: 'Cannot reach the server. Check your connection.',
  403: 'You are not allowed to do that.',
  413: 'That is too long.',
  429: 'Too many attempts. Wait a moment and try again.',
  502: 'The service is temporarily unavailable. Try again.',
  503: 'The service is temporarily unavailable. Try again.',
  504: 'The service took too long to answer. Try again.',
};

/**
 * Turns an error into per-field messages. `context` tunes generic statuses: a 401 on the login
 * form means wrong credentials, a 404 on an "add by email" form means no such user.
 */
export function mapApiError(
  err: unknown,
  context: 'login' | 'register' | 'join' | 'email' | 'generic' = 'generic',
): FormErrors {
  if (!(err instanceof ApiError)) {
    return { form: 'Something went wrong. Try again.' };
  }
  const rule = RULES[err.code];
  if (rule) return { [rule.field]: rule.message };

  if (err.status === 401 && context === 'login') return { form: RULES.invalid_credentials.message };
  if (err.status === 404 && context === 'join') return { code: 'No team has this code.' };
  if (err.status === 404 && context === 'email') return { email: 'No user with this email.' };
  if (err.status === 409 && context === 'email') return { email: 'Already a member.' };

  // Unknown 400 code: place it by the field its name mentions.
  if (err.status === 400) {
    for (const field of ['username', 'email', 'password', 'code', 'title', 'name', 'text']) {
      if (err.code.includes(field)) return { [field]: err.message || 'Invalid value.' };
    }
  }
  return { form: BY_STATUS[err.status] ?? err.message ?? 'Something went wrong. Try again.' };
}

/** A one-line message for toasts. */
export function errorMessage(err: unknown): string {
  const mapped = mapApiError(err);
  return Object.values(mapped)[0] ?? 'Something went wrong.';
}

const USERNAME_RE = /^[a-zA-Z0-9_.-]{3,32}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Client-side checks that mirror the API's rules, so most mistakes show before a round trip. */
export function validateRegistration(v: { username: string; email: string; password: string }): FormErrors {
  const e: FormErrors = {};
  if (!USERNAME_RE.test(v.username)) e.username = RULES.invalid_username.message;
  if (!EMAIL_RE.test(v.email)) e.email = RULES.invalid_email.message;
  if (v.password.length < 8) e.password = RULES.password_too_short.message;
  return e;
}

export function isEmail(s: string): boolean {
  return EMAIL_RE.test(s.trim());
}
