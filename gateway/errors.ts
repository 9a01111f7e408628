// The base of the gateway's coded errors, from shared/ (neither gateway nor drivers), so
// the pure core imports no driver module. Gateway modules import it from here.
export { CodedError } from '../shared/errors.js';
