import { nodeTypeOf } from '../core/ids.ts';
import { builder } from './builder.ts';
import { NodeRef } from './common.ts';
import { authorize } from './guard.ts';

builder.queryFields((t) => ({
  node: t.field({
    type: NodeRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const principal = authorize(ctx, 'VIEWER');
      const { db } = ctx.services.ports;
      switch (nodeTypeOf(id)) {
        case 'Stream':
          return db.stream.findUnique({ where: { id } });
        case 'Detector':
          return db.detector.findUnique({ where: { id } });
        case 'Sla':
          return db.sla.findUnique({ where: { id } });
        case 'Runbook':
          return db.runbook.findUnique({ where: { id } });
        case 'RunbookExecution':
          return db.runbookExecution.findUnique({ where: { id } });
        case 'Anomaly':
          return db.anomaly.findUnique({ where: { id } });
        case 'Incident':
          return db.incident.findUnique({ where: { id } });
        case 'DeadLetter':
          return db.deadLetter.findUnique({ where: { id } });
        // Keys and the audit log are ADMIN-only through their own fields; node() must not be a side door.
        case 'ApiKey':
          return principal.role === 'ADMIN' ? db.apiKey.findUnique({ where: { id } }) : null;
        case 'AuditEntry':
          return principal.role === 'ADMIN' ? db.auditEntry.findUnique({ where: { id } }) : null;
        default:
          return null;
      }
    },
  }),
}));
