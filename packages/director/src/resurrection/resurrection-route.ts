import { z } from 'zod';
import { readJson } from '../api/body.ts';
import type { Route } from '../api/route.ts';
import { resurrectionPaused, setResurrectionPaused } from '../cloud-check/cloud-check-deps.ts';
import type { Db } from '../db/db.ts';
import { ValidationInvalidType } from '../errors.ts';

const Body = z.object({ resurrection_paused: z.boolean().optional(), resume_all: z.boolean().optional() });

/**
 * `bosh update-resurrection on|off`: `PUT /resurrection {"resurrection_paused": bool}` (BOSH's
 * resurrection controller; `{"resume_all": bool}` is taken too, true meaning resumed). While
 * paused, `scan_and_fix` is refused. `GET /resurrection` answers `{"resurrection_paused": bool}`.
 */
export function resurrectionRoutes(db: Db): Route[] {
  return [
    {
      method: 'PUT',
      path: '/resurrection',
      async handle(request) {
        const body = await readJson(request, Body);
        const paused =
          body.resurrection_paused ?? (body.resume_all === undefined ? undefined : !body.resume_all);
        if (paused === undefined)
          throw new ValidationInvalidType('Invalid request body: resurrection_paused: expected a boolean');
        await setResurrectionPaused(db, paused);
        return { kind: 'json', body: { resurrection_paused: paused } };
      },
    },
    {
      method: 'GET',
      path: '/resurrection',
      async handle() {
        return { kind: 'json', body: { resurrection_paused: await resurrectionPaused(db) } };
      },
    },
  ];
}
