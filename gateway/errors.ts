// The base of the gateway's coded errors. Defined in drivers/errors.ts so that drivers
// (which must never import the gateway) can share it; gateway modules import it from here.
export { CodedError } from '../drivers/errors.js';
