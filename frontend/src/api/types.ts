// Types of the public API (shared/API.md, v1). Responses may carry more fields than listed.

export interface User {
  id: string;
  username: string;
  email: string;
  created_at?: string;
}

export interface UserRef {
  id: string;
  username: string;
  email?: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  user?: User;
}

export type TeamRole = 'admin' | 'member';

export interface Team {
  id: string;
  name: string;
  description: string;
  join_code?: string;
  created_at: string;
}

export interface TeamWithRole {
  team: Team;
  role: TeamRole;
}

export interface JoinRequest {
  id: string;
  team_id: string;
  user: UserRef;
  status: 'pending' | 'accepted' | 'rejected';
  created_at: string;
}

export interface Member {
  user: UserRef;
  role: TeamRole;
  joined_at: string;
}

export interface Post {
  id: string;
  team_id: string;
  author: UserRef;
  text: string;
  comment_count: number;
  created_at: string;
  edited_at: string | null;
}

export interface Comment {
  id: string;
  post_id: string;
  author: UserRef;
  text: string;
  created_at: string;
  edited_at: string | null;
}

export interface Message {
  id: string;
  chat_id: string;
  seq: number;
  sender: UserRef;
  text: string;
  client_msg_id: string;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  read_by: string[];
}

export interface Chat {
  id: string;
  title: string;
  created_by: string;
  created_at: string;
  last_message: Message | null;
  unread_count: number;
}

export interface ChatDetail {
  chat: Chat;
  members: UserRef[];
}

export type ConferenceStatus = 'scheduled' | 'live' | 'ended';
export type ConferenceRole = 'host' | 'participant';

export interface Conference {
  id: string;
  team_id: string;
  title: string;
  starts_at: string;
  waiting_room: boolean;
  created_by: string;
  status: ConferenceStatus;
  participant_count: number;
}

export interface ListResponse<T> {
  items: T[];
  next_cursor?: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}
