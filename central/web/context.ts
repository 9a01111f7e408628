// What every console route module gets (central/http.ts builds it once): the database,
// the clock, role checks, the live feed, the pusher of signed updates and the sites'
// pseudonym keys. Modules: pages.ts (checkpoints, alerts, stream) and one file per page.
import type express from 'express';
import type { Response } from 'express';
import type { Queryable } from '../db/adapter.js';
import type { UpdatePusher } from '../push.js';
import type { SiteKeys } from '../sites.js';
import type { ChangeFeed } from './changes.js';
import type { Role } from './officers.js';
import type { ConsoleSession } from './sessions.js';

export interface ConsoleContext {
  db: () => Queryable;
  now: () => number;
  requireRole: (...roles: Role[]) => express.RequestHandler;
  escalateAfterMs?: number;
  changes?: ChangeFeed;
  pusher?: UpdatePusher;
  sites?: SiteKeys;
}

/** The signed-in officer of this request (set by the session check in app.ts). */
export const sessionOf = (res: Response): ConsoleSession => res.locals['officerSession'] as ConsoleSession;
export const clientOf = (req: express.Request): string => req.socket.remoteAddress ?? 'unknown';
