// The one module through which the facade reaches the generated code (generated/ is never
// edited by hand: `npm run proto:sync && npm run generate` rewrites it).
export * from '../generated/etcdserverpb/rpc.js';
export { KeyValue, Event, Event_EventType } from '../generated/mvccpb/kv.js';
export { User, Role, Permission, Permission_Type, UserAddOptions } from '../generated/authpb/auth.js';
export { LockDefinition, LockRequest, LockResponse, UnlockRequest, UnlockResponse } from '../generated/v3lockpb/v3lock.js';
export {
  ElectionDefinition,
  CampaignRequest,
  CampaignResponse,
  LeaderKey,
  LeaderRequest,
  LeaderResponse,
  ResignRequest,
  ResignResponse,
  ProclaimRequest,
  ProclaimResponse,
} from '../generated/v3electionpb/v3election.js';
