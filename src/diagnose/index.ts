/** The troubleshooter's diagnosis engine: parse a job log, say why the job failed and how to fix it. */
export { RULES, diagnose, renderReport, reportJson } from './engine.js'
export { parseTrace, parseTraceStream, stripAnsi } from './trace.js'
export type { Diagnosis, DiagnosisReport, Evidence, EvidenceLine, Fix, ParsedTrace, ProbeResult, Rule, TraceLine, TraceSection } from './types.js'
