import { readFileSync } from 'node:fs'
import { GlrunError } from '../diagnostics/errors.js'
import { probeTls, type TlsProblem } from '../probe/index.js'
import { tlsProblem } from '../probe/tls.js'
import type { RunnerSettings } from '../runner-config/types.js'

const HINT_NO_CA = 'GitLab\'s certificate is not trusted by this machine: give the runner the CA that signed it — tls-ca-file = "/path/ca.crt" in this runner\'s [[runners]] section of config.toml (register: --tls-ca-file). `glrun doctor --config <config.toml>` shows the certificate and how to fetch it.'
const HINT_WITH_CA = (file: string): string => `tls-ca-file "${file}" does not hold the CA that signed GitLab's certificate: replace it with that CA's PEM. \`glrun doctor --config <config.toml>\` shows the chain GitLab presents.`

/** The message of a failed TLS verification, or undefined for any other network failure. */
function certificateProblem(e: unknown): { problem: TlsProblem | undefined; message: string } | undefined {
  const err = e as NodeJS.ErrnoException
  const problem = tlsProblem(err?.code)
  if (problem) return { problem, message: err.message }
  if (/certificate|self.signed|unable to verify/i.test(String(err?.message ?? ''))) return { problem: undefined, message: err.message }
  return undefined
}

/**
 * A call to GitLab that failed because its certificate is not trusted, as the error a user can
 * act on (the fix is tls-ca-file, never "retry"); undefined for any other failure.
 */
export function gitlabTlsError(url: string, e: unknown, caFile?: string): GlrunError | undefined {
  const p = certificateProblem(e)
  if (!p) return undefined
  return new GlrunError('GLRUN_GITLAB_TLS', `GitLab at ${url} presents a certificate glrun does not trust (${p.problem ?? 'verification failed'}: ${p.message})`, {
    hint: caFile ? HINT_WITH_CA(caFile) : HINT_NO_CA,
  })
}

/**
 * Before `glrun runner` starts polling: every https GitLab must present a certificate this runner
 * trusts. A certificate problem never heals by retrying, so the runner stops with the fix instead
 * of logging failed polls forever; a GitLab that is merely down is left to the poll loop's back-off.
 */
export async function checkRunnersTls(runners: readonly RunnerSettings[], timeoutMs = 10_000): Promise<void> {
  for (const r of runners) {
    const ca = readCa(r)
    let u: URL
    try {
      u = new URL(r.url ?? '')
    } catch {
      continue
    }
    if (u.protocol !== 'https:') continue
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
    const probe = await probeTls(host, u.port ? Number(u.port) : 443, { timeoutMs, ...(ca ? { ca } : {}) })
    if (probe.ok || !probe.detail?.['problem']) continue
    throw new GlrunError('GLRUN_GITLAB_TLS', `runner "${r.name}": GitLab at ${r.url} — ${probe.summary}`, {
      hint: r.tlsCaFile ? HINT_WITH_CA(r.tlsCaFile) : HINT_NO_CA,
    })
  }
}

/** The runner's tls-ca-file, read once up front: the poll loop reads it again and must not fail there. */
function readCa(r: RunnerSettings): string | undefined {
  if (!r.tlsCaFile) return undefined
  try {
    return readFileSync(r.tlsCaFile, 'utf8')
  } catch (e) {
    throw new GlrunError('GLRUN_CONFIG_TLS_CA_FILE', `runner "${r.name}": tls-ca-file "${r.tlsCaFile}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Give the PEM file of the CA that signed your GitLab certificate.' })
  }
}
