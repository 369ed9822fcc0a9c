import { SERIES_POINTS_KEPT, type SeriesPoint } from '../services/series.ts';
import { builder } from './builder.ts';

const DEFAULT_LAST = 300;

const SeriesPointRef = builder.objectRef<SeriesPoint>('SeriesPoint').implement({
  description:
    "One scored event of a detector's series: its value against the expected value and band the detector had at that moment. Kept at about one a second per series (the last of each second) plus every anomalous event.",
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: "The event's own time.", resolve: (p) => new Date(p.at) }),
    value: t.exposeFloat('value', { description: 'The value of the detector field in the event.' }),
    expected: t.exposeFloat('expected', { nullable: true, description: 'The baseline the value was compared with; null while the series has none (warm-up).' }),
    lower: t.exposeFloat('lower', { nullable: true, description: 'The lower edge of the band at the threshold; null where that side does not alert or there is no baseline yet.' }),
    upper: t.exposeFloat('upper', { nullable: true, description: 'The upper edge of the band at the threshold; null where that side does not alert or there is no baseline yet.' }),
    anomalous: t.exposeBoolean('anomalous', { description: 'True when the detector flagged this event: an anomaly was recorded for it (a shadow one for a SHADOW detector).' }),
  }),
});

builder.queryFields((t) => ({
  seriesPoints: t.field({
    type: [SeriesPointRef],
    authScopes: { role: 'VIEWER' },
    description: `Recent scored points of one series of a detector, oldest first, for a chart. Best effort: kept in Redis by the stream workers, the last ${SERIES_POINTS_KEPT} per series at about one a second, for about a day after the series last scored; empty when none are kept. NOT_FOUND for an unknown detector. Role: VIEWER.`,
    args: {
      detectorId: t.arg.id({ required: true, description: 'The detector whose series is read.' }),
      seriesKey: t.arg.string({ description: "The series (the event's key field value); null for the series of events without a key." }),
      last: t.arg.int({ defaultValue: DEFAULT_LAST, description: `How many of the newest points to return, from 1 to ${SERIES_POINTS_KEPT}.` }),
    },
    resolve: (_root, args, ctx) => ctx.services.series.points(args.detectorId, args.seriesKey ?? null, args.last ?? DEFAULT_LAST),
  }),
}));
