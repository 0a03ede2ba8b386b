import type { ParsedTrace } from './trace.js'

export type { ParsedTrace, TraceLine, TraceSection } from './trace.js'

/**
 * Result of an active check (DNS lookup, TCP connect, TLS handshake, registry ping) run by the
 * troubleshooter. `from` says where it ran: on the runner host or inside a job container/pod.
 * The difference between the two is often the whole diagnosis ("the runner host resolves X,
 * the job does not"), so rules compare them when both are present.
 */
export interface ProbeResult {
  kind: 'dns' | 'tcp' | 'tls' | 'registry'
  target: string
  from: 'runner' | 'job'
  ok: boolean
  summary: string
  /** Free-form details; rules read `addresses` (string[]) from DNS probes and `error` (string). */
  detail?: Record<string, unknown>
}

/** Everything known about one failed job. Only the trace is mandatory. */
export interface Evidence {
  trace: ParsedTrace
  /** docker, docker+machine, docker-autoscaler, kubernetes, shell, custom... */
  executor?: string
  /** A runner config.toml, already parsed (smol-toml object); shape not guaranteed. */
  config?: unknown
  ciYaml?: string
  /** The job payload (JobResponse JSON) when the run came from GitLab. */
  payload?: unknown
  probes?: ProbeResult[]
}

export interface EvidenceLine {
  line: number
  text: string
}

export interface Fix {
  text: string
  /** Ready-to-paste config.toml / .gitlab-ci.yml / Dockerfile / shell text. */
  snippet?: string
}

export interface Diagnosis {
  /** A category identifier from the failure taxonomy (docs: failure-taxonomy.md). */
  category: string
  title: string
  cause: string
  evidence: EvidenceLine[]
  fixes: Fix[]
  /** 0..1; the engine adjusts it by phase before ranking. */
  confidence: number
}

/** One family of failure patterns. `match` returns nothing when the family does not apply. */
export interface Rule {
  id: string
  categories: string[]
  match(ev: Evidence): Diagnosis[]
}

export interface DiagnosisReport {
  phase?: string
  exit_code?: number
  diagnoses: Diagnosis[]
  /** Lines worth reading when no known pattern matched a failed job. */
  relevant?: EvidenceLine[]
  /** The active checks that were run (their results are evidence too), in the order run. */
  checks?: ProbeResult[]
}
