import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

export const INCIDENT_DESCRIPTIONS: Descriptions = {
  Incident:
    "A problem someone may need to act on: anomalies of one detector (and, with groupBy SERIES, one series) grouped by the detector's incident policy. It may trigger runbooks when opened or escalated.",
  'Incident.title': 'What and where, e.g. "p99: latency_ms anomalies on checkout (host-7)".',
  'Incident.status': 'OPEN, ACKNOWLEDGED (someone is on it) or RESOLVED.',
  'Incident.severity': 'The highest severity of its anomalies: it escalates when a more severe anomaly joins.',
  'Incident.stream': 'The stream its anomalies came from.',
  'Incident.anomalyCount': 'Anomalies grouped into it so far.',
  'Incident.anomalies': 'Its anomalies, a page at a time.',
  ...pageArgs('Incident.anomalies'),
  'Incident.openedAt': 'When it was opened (by its first anomaly).',
  'Incident.acknowledgedAt': 'When it was acknowledged; null if it was not (a reopened incident starts unacknowledged).',
  'Incident.resolvedAt': 'When it was resolved, by hand or after its quiet period; null while it is not.',
  'Incident.timeline': 'Everything that happened to it, oldest first: opened, anomalies joined, escalations, runbook steps, acknowledgement, resolution.',
  'Incident.executions': 'The runbook executions it triggered or was given (`triggerRunbook`), oldest first.',

  IncidentEvent: 'One entry of an incident timeline.',
  'IncidentEvent.at': 'When it happened.',
  'IncidentEvent.kind':
    'What happened, e.g. OPENED, ANOMALY_JOINED, ESCALATED, REOPENED, ACKNOWLEDGED, RESOLVED, AUTO_RESOLVED, NOTIFIED, RUNBOOK_SKIPPED, STEP_FAILED, VERIFIED, NOT_VERIFIED, INPUT_SUSPECT, DRIFT_DETECTED.',
  'IncidentEvent.message': 'What happened, for people (an anomaly\'s explanation, a note given when acknowledging or resolving).',
  'IncidentEvent.actor': 'Who did it: an API key\'s name, or "vigil" for automatic entries; null when none applies.',

  IncidentStatus: 'Where an incident stands.',
  'IncidentStatus.OPEN': 'Not yet taken up: new anomalies join it.',
  'IncidentStatus.ACKNOWLEDGED': 'Someone is on it; new anomalies still join it.',
  'IncidentStatus.RESOLVED': 'Over. A new anomaly within the flap window reopens it; later, a new incident opens.',

  IncidentFilter: 'Which incidents to list or receive; every condition given must hold.',
  'IncidentFilter.streamId': 'Only incidents of this stream.',
  'IncidentFilter.status': 'Only incidents in one of these statuses.',
  'IncidentFilter.minSeverity': 'Only incidents of this severity or higher.',

  'Query.incidents': 'Incidents matching the filter, a page at a time. Role: VIEWER.',
  'Query.incidents(filter)': 'Which incidents; absent: all.',
  ...pageArgs('Query.incidents'),
  'Query.incident': 'One incident by id; null when there is none. Role: VIEWER.',
  'Query.incident(id)': 'The incident id (inc_...).',
  'Query.postmortem(incidentId)': 'The incident id. NOT_FOUND when unknown. Role: VIEWER.',

  'Mutation.acknowledgeIncident':
    'Says someone is on an OPEN incident (status ACKNOWLEDGED, an entry on its timeline). Role: OPERATOR. Errors: NOT_FOUND, BAD_USER_INPUT (id) when it is not OPEN.',
  'Mutation.acknowledgeIncident(id)': 'The incident id.',
  'Mutation.acknowledgeIncident(note)': 'Optional note for the timeline, at most 2000 characters.',
  'Mutation.resolveIncident':
    'Resolves an incident by hand (it would resolve itself after its quiet period). Role: OPERATOR. Errors: NOT_FOUND, BAD_USER_INPUT (id) when already RESOLVED.',
  'Mutation.resolveIncident(id)': 'The incident id.',
  'Mutation.resolveIncident(note)': 'Optional note for the timeline (what fixed it), at most 2000 characters.',

  'Subscription.incidentUpdates(filter)': 'Which incidents to receive; absent: all.',

  'Postmortem.incident': 'The resolved incident.',
  'Postmortem.startedAt': 'When the incident opened.',
  'Postmortem.resolvedAt': 'When it was resolved.',
  'Postmortem.durationSeconds': 'Seconds from opening to resolution.',
  'Postmortem.anomalyCount': 'Anomalies in the incident.',
  'Postmortem.seriesAffected': 'The series keys of its anomalies.',

  PostmortemEntry: 'One entry of a postmortem timeline.',
  'PostmortemEntry.at': 'When it happened.',
  'PostmortemEntry.source': 'Where the entry comes from: detection, incident, runbook, verification or SLA.',
  'PostmortemEntry.message': 'What happened, for people.',
  'PostmortemEntry.actor': 'Who did it (an API key\'s name, "vigil"); null when none applies.',
  PostmortemSource: 'Where a postmortem timeline entry comes from.',
};
