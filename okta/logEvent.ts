/**
 * The part of Okta's System Log `LogEvent` that bytegate stores.
 * See https://developer.okta.com/docs/reference/api/system-log/#logevent-object
 * Fields Okta may omit are optional; ingest stores them as NULL.
 */
export interface LogEvent {
  uuid: string;
  /** ISO-8601 timestamp, e.g. 2025-01-31T08:15:02.123Z */
  published: string;
  eventType: string;
  version?: string;
  severity?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  displayMessage?: string;
  actor: LogActor;
  client?: LogClient;
  outcome?: { result: 'SUCCESS' | 'FAILURE' | 'SKIPPED' | 'ALLOW' | 'DENY' | 'CHALLENGE' | 'UNKNOWN'; reason?: string | null };
  target?: LogTarget[];
  transaction?: { type?: string; id?: string };
  debugContext?: { debugData?: Record<string, unknown> };
  authenticationContext?: LogAuthenticationContext;
  securityContext?: { asNumber?: number | null; asOrg?: string | null; isp?: string | null; domain?: string | null; isProxy?: boolean | null };
}

export interface LogActor {
  id: string;
  type: string;
  alternateId?: string;
  displayName?: string;
}

export interface LogTarget {
  id: string;
  /** `AppInstance` for applications, `AppUser` for the user's assignment, `User`, … */
  type: string;
  alternateId?: string;
  displayName?: string;
}

export interface LogClient {
  userAgent?: { rawUserAgent?: string; os?: string; browser?: string };
  zone?: string;
  device?: string;
  ipAddress?: string;
  geographicalContext?: {
    city?: string;
    state?: string;
    country?: string;
    postalCode?: string;
    geolocation?: { lat: number; lon: number };
  };
}

export interface LogAuthenticationContext {
  authenticationProvider?: string | null;
  credentialProvider?: string | null;
  credentialType?: string | null;
  interface?: string | null;
  /** Okta documents this as always 0 in real logs; see warehouse/rollup.ts for how steps are counted. */
  authenticationStep?: number;
  externalSessionId?: string;
}

/** A person in the tenant's directory (Okta `/api/v1/users`, reduced). `id` equals `actor.id` in events. */
export interface DirectoryUser {
  id: string;
  email: string;
  displayName: string;
  department: string | null;
  title: string | null;
  managerId: string | null;
}
