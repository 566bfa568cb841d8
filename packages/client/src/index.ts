/**
 * onair's client SDK (`@onair/client`): connect to a programme, make calls that resolve with
 * their result or reject with the protocol's error code, and follow the programme's state.
 * Runs in Node and in browsers.
 */
export { connect, DEFAULT_TIMEOUT_MS, OnAirClient, type ConnectOptions, type OnAirSocket } from './client.js';
export { DEFAULT_REFRESH_BEFORE_MS } from './keeper.js';
export {
  backoffDelay,
  ConnectionState,
  DEFAULT_BACKOFF,
  initialConnection,
  reduceConnection,
  tokenExpiresAt,
  type BackoffOptions,
  type ConnectionAction,
  type ConnectionSnapshot,
  type ConnectionStatus,
} from './connection.js';
export { OnAirConnectError, OnAirError, type OnAirConnectErrorCode } from './errors.js';
export { expectedIdentity, tokenClaims } from './identity.js';
export { OnAirApi, OnAirHttpError, programsOnAir, type AppApiOptions, type PageOptions } from './app-api.js';
export { ProgramsFeedClient, watchPrograms, type ProgramsFeedOptions } from './programs-feed.js';
export {
  initialPrograms,
  ProgramsState,
  reducePrograms,
  waitForPrograms,
  type ProgramsAction,
  type ProgramsEvent,
  type ProgramsListener,
  type ProgramsSnapshot,
} from './programs-state.js';
export {
  initialSnapshot,
  MESSAGES_KEPT,
  OnAirState,
  reduce,
  waitFor,
  type OnAirSnapshot,
  type OwnAction,
  type ServerEvent,
  type StateAction,
  type StateListener,
  type SystemNotice,
} from './state.js';
// The protocol's types and codes, so that an application needs this one import.
export * from './protocol/errors.js';
export type * from './protocol/events.js';
export type * from './protocol/programs.js';
export { PROGRAMS_NAMESPACE } from './protocol/programs.js';
export { clientEventNames, serverEventNames } from './protocol/events.js';
