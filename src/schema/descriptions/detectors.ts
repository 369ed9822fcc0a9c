import { DEFAULT_INCIDENT_POLICY } from '../../incidents/policy.ts';
import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

const policy = DEFAULT_INCIDENT_POLICY;
const PARAMS_DOC = 'Each kind\'s settings, their ranges and defaults: docs/api.md, "Detectors".';

export const DETECTOR_DESCRIPTIONS: Descriptions = {
  Detector:
    'Watches one value field of a stream and records anomalies. Its settings are versioned: every change makes a new, immutable version, and each anomaly names the version that found it.',
  'Detector.name': 'Name, unique within its stream: 1 to 100 letters, digits, spaces, ".", "_" or "-".',
  'Detector.stream': 'The stream it watches.',
  'Detector.field': "The value field it watches (one of the stream's valueFields).",
  'Detector.kind': 'The algorithm of the current version.',
  'Detector.params': `The settings of the current version, every one stated (defaults filled in when registered). ${PARAMS_DOC}`,
  'Detector.mode': 'Whether the current version runs and alerts: ACTIVE, SHADOW (records, never alerts) or DISABLED.',
  'Detector.severity': 'Severity of the anomalies the current version records, and so of the incidents they open.',
  'Detector.version': 'Number of the current version (1 at registration).',
  'Detector.versions': 'Every version, oldest first; old ones are kept for lineage and rollback.',
  'Detector.stats': 'How many anomalies it recorded and how people labelled them.',

  DetectorKind: `The detection algorithm. ${PARAMS_DOC}`,
  DetectorMode: 'Whether a detector runs, and whether its anomalies alert.',
  'DetectorMode.ACTIVE': 'Runs; its anomalies open incidents and trigger runbooks.',
  'DetectorMode.SHADOW':
    'Runs and records anomalies (shadow: true) that open no incident and trigger nothing: to try settings beside an active detector.',
  'DetectorMode.DISABLED': 'Does not run.',

  DetectorVersion: 'One immutable version of a detector\'s settings.',
  'DetectorVersion.version': 'Version number, from 1, one more per change (rollbacks included).',
  'DetectorVersion.kind': 'The algorithm of this version.',
  'DetectorVersion.params': 'Every setting of this version, as stored (defaults filled in).',
  'DetectorVersion.mode': 'Mode of this version.',
  'DetectorVersion.createdAt': 'When this version was made.',
  'DetectorVersion.createdBy': 'Name of the API key that made it ("admin" for VIGIL_ADMIN_KEY).',

  DetectorStats: 'Anomaly counts of a detector (all versions) and how people labelled them (`labelAnomaly`).',
  'DetectorStats.anomalies': 'Anomalies recorded, all versions, shadow ones included.',
  'DetectorStats.truePositives': 'Anomalies labelled TRUE_POSITIVE.',
  'DetectorStats.falsePositives': 'Anomalies labelled FALSE_POSITIVE.',

  IncidentPolicy: 'How a detector\'s anomalies are grouped into incidents.',
  'IncidentPolicy.groupBy': 'DETECTOR: one incident per stream and detector; SERIES: one per series key as well.',
  'IncidentPolicy.correlationWindowSeconds':
    'Seconds: an anomaly joins the open incident while the gap (in event time) since its last anomaly is under this.',
  'IncidentPolicy.flapWindowSeconds': 'Seconds: a resolved incident that gets a new anomaly within this is reopened, not duplicated.',
  'IncidentPolicy.quietPeriodSeconds': 'Seconds: an incident with no new anomaly for this long resolves itself.',

  IncidentGrouping: 'Which anomalies share an incident.',
  'IncidentPolicyInput.groupBy': `DETECTOR (default) or SERIES.`,

  RegisterDetectorInput: 'A detector to register (`registerDetector`).',
  'RegisterDetectorInput.streamId': 'The stream to watch. NOT_FOUND when unknown.',
  'RegisterDetectorInput.name': 'Name, unique within the stream (else CONFLICT): 1 to 100 letters, digits, spaces, ".", "_" or "-".',
  'RegisterDetectorInput.field': "The value field to watch: one of the stream's valueFields.",
  'RegisterDetectorInput.kind': 'The algorithm.',
  'RegisterDetectorInput.mode': 'ACTIVE (default), SHADOW or DISABLED.',
  'RegisterDetectorInput.severity': 'Severity of its anomalies (default WARNING).',
  'RegisterDetectorInput.incidentPolicy': `How its anomalies become incidents (defaults: ${policy.groupBy}, ${policy.correlationWindowSeconds}, ${policy.flapWindowSeconds}, ${policy.quietPeriodSeconds} s).`,

  UpdateDetectorInput: 'What to change in a detector; give at least one setting (else BAD_USER_INPUT on input).',
  'UpdateDetectorInput.kind': 'A new algorithm; its params start from that kind\'s defaults.',
  'UpdateDetectorInput.mode': 'A new mode.',
  'UpdateDetectorInput.severity': 'A new severity for the anomalies it records from now on.',

  'Query.detectors': 'Detectors, a page at a time, optionally of one stream. Role: VIEWER.',
  'Query.detectors(streamId)': 'Only the detectors of this stream.',
  ...pageArgs('Query.detectors'),
  'Query.detector': 'One detector by id; null when there is none. Role: VIEWER.',
  'Query.detector(id)': 'The detector id (det_...).',

  'Mutation.registerDetector':
    'Registers a detector on a stream; its params are checked for its kind and completed with defaults, so version 1 states every setting. Workers start it without a restart. Role: ADMIN. Errors: NOT_FOUND (input.streamId), BAD_USER_INPUT (input.name, input.field, input.params.<setting>, input.incidentPolicy.<setting>), CONFLICT (input.name).',
  'Mutation.registerDetector(input)': 'The detector to register.',
  'Mutation.updateDetector(id)': 'The detector id. NOT_FOUND when unknown. Role: ADMIN.',
  'Mutation.updateDetector(input)':
    'What to change. A new version learns its baseline afresh; CONFLICT when the detector changed concurrently. BAD_USER_INPUT names input.params.<setting> for a bad setting.',
  'Mutation.rollbackDetector(id)': 'The detector id. NOT_FOUND when unknown. Role: ADMIN.',
  'Mutation.rollbackDetector(version)': 'The version whose settings to restore; NOT_FOUND (field "version") when it does not exist.',
};
