import { BOLD_CYAN, BOLD_GREEN, BOLD_RED, BOLD_YELLOW, RESET } from '../trace/ansi.js'
import { artifactsRule } from './rules/artifacts.js'
import { ciHypothesesRule } from './rules/ci-hypotheses.js'
import { configRule } from './rules/config.js'
import { dindRule } from './rules/dind.js'
import { hostRule } from './rules/host.js'
import { imageRule } from './rules/image.js'
import { buildDeployRule } from './rules/build-deploy.js'
import { buildDependenciesRule } from './rules/build-dependencies.js'
import { lifecycleRule } from './rules/lifecycle.js'
import { gitTransportRule } from './rules/git-transport.js'
import { toolVerdictsRule } from './rules/tool-verdicts.js'
import { containerPrivilegesRule } from './rules/container-privileges.js'
import { toolchainRule } from './rules/toolchain.js'
import { packagesRule } from './rules/packages.js'
import { kubernetesRule } from './rules/kubernetes.js'
import { networkRule } from './rules/network.js'
import { registryRule } from './rules/registry.js'
import { runnerRule } from './rules/runner.js'
import { scriptRule } from './rules/script.js'
import { tlsRule } from './rules/tls.js'
import { loopbackServicesRule } from './rules/loopback-services.js'
import { missingProgramsRule } from './rules/missing-programs.js'
import { dependencyDriftRule } from './rules/dependency-drift.js'
import { terminalRule } from './rules/terminal.js'
import { vmDriverRule } from './rules/vm-driver.js'
import { jobTokenRule } from './rules/job-token.js'
import { shellDetectionRule } from './rules/shell-detection.js'
import { envModulesRule } from './rules/env-modules.js'
import { runnerAccountRule } from './rules/runner-account.js'
import { windowsHostRule } from './rules/windows-host.js'
import { localeRule } from './rules/locale.js'
import { serviceCredentialsRule } from './rules/service-credentials.js'
import { manifestFormatRule } from './rules/manifest-format.js'
import { detachedHeadRule } from './rules/detached-head.js'
import { beforeShaRule } from './rules/before-sha.js'
import { rateLimitsRule } from './rules/rate-limits.js'
import { cloudEndpointsRule } from './rules/cloud-endpoints.js'
import { gpuRule } from './rules/gpu.js'
import { testcontainersRule } from './rules/testcontainers.js'
import { gitlabApiTokenRule } from './rules/gitlab-api-token.js'
import { unexpandedVariablesRule } from './rules/unexpanded-variables.js'
import { imageScriptsRule } from './rules/image-scripts.js'
import { FALLBACK_CATEGORIES, fallbackDiagnosis, looksFailed, relevantLines } from './fallback.js'
import { phaseName, Scan } from './scan.js'
import { symptomDiagnoses } from './symptoms.js'
import { lineAt, stageIndex } from './trace.js'
import type { Diagnosis, DiagnosisReport, Evidence, ParsedTrace, ProbeResult, Rule } from './types.js'

export const RULES: readonly Rule[] = [networkRule, tlsRule, registryRule, imageRule, dindRule, kubernetesRule, hostRule, configRule, artifactsRule, runnerRule, scriptRule, lifecycleRule, packagesRule, buildDeployRule, gitTransportRule, toolVerdictsRule, containerPrivilegesRule, toolchainRule, buildDependenciesRule, loopbackServicesRule, missingProgramsRule, manifestFormatRule, detachedHeadRule, beforeShaRule, dependencyDriftRule, terminalRule, vmDriverRule, localeRule, serviceCredentialsRule, jobTokenRule, shellDetectionRule, envModulesRule, runnerAccountRule, windowsHostRule, rateLimitsRule, cloudEndpointsRule, gpuRule, testcontainersRule, gitlabApiTokenRule, unexpandedVariablesRule, imageScriptsRule, ciHypothesesRule]

/** Categories whose evidence lives in the stages that run after a failure. */
const POST_STAGE = new Set(['artifacts_too_large', 'artifacts_no_matching_files', 'cache_s3_access_denied'])

/**
 * Runs every rule, keeps the best diagnosis per category, and ranks them. Ranking is phase-aware:
 * the same words weigh more in the stage that failed than in a stage that ran before it (and
 * succeeded) or after it (after_script, on-failure uploads). A log that did not fail gets no
 * diagnosis; a failed log nothing matches gets the lines worth reading instead of a guess.
 */
export function diagnose(ev: Evidence, rules: readonly Rule[] = RULES): DiagnosisReport {
  const t = ev.trace
  const head = {
    ...(t.failedPhase ? { phase: t.failedPhase } : {}),
    ...(t.exitCode !== undefined ? { exit_code: t.exitCode } : {}),
    ...(ev.probes?.length ? { checks: ev.probes } : {}),
  }
  if (t.succeeded) return { ...head, diagnoses: [] }
  const best = new Map<string, Diagnosis>()
  Scan.sharedDuring(ev, () => {
    for (const rule of rules) {
      for (const d of rule.match(ev)) {
        if (recovered(d, t)) continue
        const ranked = { ...d, confidence: adjust(d, t) }
        const seen = best.get(d.category)
        if (!seen || ranked.confidence > seen.confidence) best.set(d.category, ranked)
      }
    }
  })
  const diagnoses = [...best.values()].sort((a, b) => b.confidence - a.confidence || lastLine(b) - lastLine(a) || a.category.localeCompare(b.category))
  // A weak best guess comes with the lines to read, so the user can judge it; and a failed job
  // never gets nothing: at least which kind of failure it is and what to check next.
  const weak = (diagnoses[0]?.confidence ?? 0) < 0.5
  if (!weak || !looksFailed(t)) return { ...head, diagnoses }
  const relevant = relevantLines(t)
  const ruled = diagnoses.length
  // Broad guesses from the last error lines' words, for the tools no rule knows: alternatives to
  // check, ranked below the kind of failure (symptoms.ts says why).
  for (const guess of symptomDiagnoses(relevant)) {
    if (best.has(guess.category)) continue
    const at = diagnoses.findIndex((d) => d.confidence < guess.confidence)
    diagnoses.splice(at < 0 ? diagnoses.length : at, 0, guess)
  }
  // The kind of failure outranks a guess weaker than itself (a notice from a stage that ran before the failure).
  if (ruled < 3) {
    const fallback = fallbackDiagnosis(t, relevant)
    const at = diagnoses.findIndex((d) => d.confidence < fallback.confidence)
    diagnoses.splice(at < 0 ? diagnoses.length : at, 0, fallback)
  }
  return { ...head, diagnoses, relevant }
}

/**
 * Errors of a clone that was retried and then succeeded (GET_SOURCES_ATTEMPTS) cannot explain a
 * failure in a later stage: the job got past get_sources.
 */
function recovered(d: Diagnosis, t: ParsedTrace): boolean {
  const failed = stageIndex(t.failedPhase)
  return failed > stageIndex('get_sources') && d.evidence.length > 0 &&
    d.evidence.every((e) => lineAt(t, e.line)?.section === 'get_sources')
}

function lastLine(d: Diagnosis): number {
  return d.evidence.reduce((m, e) => Math.max(m, e.line), 0)
}

function adjust(d: Diagnosis, t: ParsedTrace): number {
  let c = d.confidence
  const failed = stageIndex(t.failedPhase)
  const line = lineAt(t, lastLine(d))
  const at = stageIndex(line?.section)
  if (failed >= 0 && at >= 0) {
    if (phaseName(line?.section) === phaseName(t.failedPhase)) c += 0.05
    else if (at > failed && !POST_STAGE.has(d.category)) c -= 0.15
    else if (at < failed) c -= 0.3
  }
  return Math.round(Math.min(0.99, Math.max(0.05, c)) * 100) / 100
}

/** The machine-readable form: phase, exit_code and the diagnoses (plus the checks, when any ran). */
export function reportJson(report: DiagnosisReport): { phase: string | null; exit_code: number | null; diagnoses: Diagnosis[]; checks?: ProbeResult[] } {
  return {
    phase: report.phase ?? null,
    exit_code: report.exit_code ?? null,
    diagnoses: report.diagnoses.map((d) => ({
      category: d.category,
      title: d.title,
      cause: d.cause,
      evidence: d.evidence.map((e) => ({ line: e.line, text: e.text })),
      fixes: d.fixes.map((f) => (f.snippet === undefined ? { text: f.text } : { text: f.text, snippet: f.snippet })),
      confidence: d.confidence,
    })),
    ...(report.checks ? { checks: report.checks.map((c) => ({ kind: c.kind, target: c.target, from: c.from, ok: c.ok, summary: c.summary, ...(c.detail ? { detail: c.detail } : {}) })) } : {}),
  }
}

/** Short, scannable text: where it failed, the top diagnosis in full, alternatives one per line. */
export function renderReport(report: DiagnosisReport, opts: { color: boolean }): string {
  const paint = (c: string, s: string): string => (opts.color ? `${c}${s}${RESET}` : s)
  const out: string[] = []
  const where = report.phase ? `in ${report.phase}` : ''
  const code = report.exit_code !== undefined ? `exit code ${report.exit_code}` : ''
  out.push(paint(BOLD_CYAN, where || code ? `Job failed ${[where, code && `(${code})`].filter(Boolean).join(' ')}` : 'Job log analysed'))
  const [top, ...rest] = report.diagnoses
  if (!top) {
    if (!report.relevant) return `${paint(BOLD_GREEN, 'No failure found in this log.')}\n`
    out.push('', paint(BOLD_YELLOW, 'No known failure pattern matched. The lines most likely to explain it:'))
    for (const e of report.relevant) out.push(`  ${lineNo(e.line)}  ${e.text}`)
    return `${out.join('\n')}\n`
  }
  if (FALLBACK_CATEGORIES.has(top.category)) out.push('', paint(BOLD_YELLOW, 'No known failure pattern matched; what kind of failure it is and what to check next:'))
  out.push('', `${paint(BOLD_RED, top.title)}  ${paint(BOLD_YELLOW, `[${top.category}, confidence ${top.confidence.toFixed(2)}]`)}`)
  out.push(`  ${top.cause}`)
  if (top.evidence.length) {
    out.push('', '  Evidence:')
    for (const e of top.evidence) out.push(`    ${lineNo(e.line)}  ${e.text}`)
  }
  if (report.checks?.length) {
    out.push('', '  Checked just now:')
    // Where a check ran is half its meaning: the runner resolving a name and the job not is the finding.
    for (const c of report.checks) out.push(`    ${c.ok ? paint(BOLD_GREEN, 'ok  ') : paint(BOLD_RED, 'FAIL')}  ${c.kind.padEnd(8)} ${(c.from === 'job' ? 'from the job' : 'from runner').padEnd(12)}  ${c.summary}`)
  }
  if (top.fixes.length) {
    out.push('', '  Fixes:')
    top.fixes.forEach((f, i) => {
      out.push(`    ${i + 1}. ${f.text}`)
      if (f.snippet) for (const s of f.snippet.split('\n')) out.push(`         ${paint(BOLD_GREEN, s)}`)
    })
  }
  if (rest.length) {
    out.push('', '  Other possible causes:')
    for (const d of rest) out.push(`    - ${d.title} [${d.category}, ${d.confidence.toFixed(2)}]`)
  }
  if (report.relevant?.length) {
    out.push('', '  This is a weak match; the lines most likely to explain the failure:')
    for (const e of report.relevant) out.push(`    ${lineNo(e.line)}  ${e.text}`)
  }
  return `${out.join('\n')}\n`
}

function lineNo(n: number): string {
  return `L${n}`.padStart(5)
}
