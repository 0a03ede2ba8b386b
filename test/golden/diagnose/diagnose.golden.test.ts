import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { afterAll, describe, expect, it } from 'vitest'
import { diagnose, reportJson } from '../../../src/diagnose/engine.js'
import { parseTrace } from '../../../src/diagnose/trace.js'
import type { Evidence, ProbeResult } from '../../../src/diagnose/types.js'

/**
 * Diagnosis goldens. One directory per case:
 *   <category>[--variant]            a failure of that category: it must be the top diagnosis;
 *   <category>-near-miss[--variant]  a look-alike failure: that category must not be diagnosed;
 *   anything else                    meta.json "expect" names the top category (null: no diagnosis).
 * Each holds trace.log, optional meta.json ({executor, config, ci, probes, expect}) and
 * expected.json (reportJson output). UPDATE_GOLDEN=1 rewrites expected.json.
 */

interface Meta {
  executor?: string
  config?: string
  ci?: string
  probes?: ProbeResult[]
  expect?: string | null
}

const root = new URL('.', import.meta.url).pathname
const cases = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort()
const taxonomy = [
  'dns_resolution_failure', 'dns_resolution_intermittent_k8s', 'gitlab_host_unreachable_from_job', 'clone_url_misconfigured',
  'egress_blocked_firewall', 'proxy_required', 'tls_mtu_ssl_error_syscall', 'tls_untrusted_ca', 'registry_tls_untrusted_ca',
  'registry_insecure_http', 'image_not_found', 'image_reference_invalid', 'dockerfile_build_arg', 'registry_auth_failed',
  'registry_rate_limited', 'helper_image_pull_failed', 'image_entrypoint_override', 'image_missing_shell', 'shell_mismatch',
  'command_not_found', 'script_not_executable', 'dind_service_missing', 'dind_tls_mismatch', 'dind_service_failed_to_start',
  'dind_unsupported_on_runner', 'dind_docker_host_wrong', 'dind_image_regression', 'docker_api_version_mismatch',
  'docker_engine_broken', 'kubernetes_rbac_forbidden', 'pod_pending_unschedulable', 'oom_killed',
  'permission_denied_builds_dir', 'permission_denied_non_root', 'git_client_too_old', 'shallow_clone_missing_ref',
  'git_auth_job_token', 'no_space_left_on_device', 'no_matching_runner', 'job_timeout', 'yaml_config_error',
  'protected_variable_unavailable', 'artifacts_too_large', 'artifacts_no_matching_files', 'cache_s3_access_denied',
]

function evidenceOf(dir: string): { ev: Evidence; meta: Meta } {
  const metaPath = join(dir, 'meta.json')
  const meta: Meta = existsSync(metaPath) ? JSON.parse(readFileSync(metaPath, 'utf8')) as Meta : {}
  const ev: Evidence = { trace: parseTrace(readFileSync(join(dir, 'trace.log'), 'utf8')) }
  if (meta.executor) ev.executor = meta.executor
  if (meta.config) ev.config = parse(readFileSync(join(dir, meta.config), 'utf8'))
  if (meta.ci) ev.ciYaml = readFileSync(join(dir, meta.ci), 'utf8')
  if (meta.probes) ev.probes = meta.probes
  return { ev, meta }
}

function kindOf(name: string, meta: Meta): { positive?: string | null; nearMiss?: string } {
  const base = name.split('--')[0] ?? name
  if (base.endsWith('-near-miss')) return { nearMiss: base.slice(0, -'-near-miss'.length) }
  if (taxonomy.includes(base)) return { positive: base }
  return meta.expect === undefined ? {} : { positive: meta.expect }
}

let positives = 0
let hits = 0
const misses: string[] = []

describe('diagnosis goldens', () => {
  it.each(cases)('%s', (name) => {
    const dir = join(root, name)
    const { ev, meta } = evidenceOf(dir)
    const actual = reportJson(diagnose(ev))
    const golden = join(dir, 'expected.json')
    const text = `${JSON.stringify(actual, null, 2)}\n`
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, text)
    const kind = kindOf(name, meta)
    const categories = actual.diagnoses.map((d) => d.category)
    if (kind.positive !== undefined) {
      positives++
      if ((categories[0] ?? null) === kind.positive) hits++
      else misses.push(`${name}: top ${categories[0] ?? 'none'}`)
      expect(categories[0] ?? null, `top-1 for ${name}`).toBe(kind.positive)
    }
    if (kind.nearMiss) expect(categories, `near-miss ${name}`).not.toContain(kind.nearMiss)
    expect(text).toBe(readFileSync(golden, 'utf8'))
  })

  it('covers every taxonomy category with a positive and a near-miss case', () => {
    const bases = cases.map((c) => c.split('--')[0])
    const missing = taxonomy.flatMap((c) => [bases.includes(c) ? [] : [c], bases.includes(`${c}-near-miss`) ? [] : [`${c}-near-miss`]].flat())
    expect(missing).toEqual([])
  })
})

afterAll(() => {
  const share = positives ? ((100 * hits) / positives).toFixed(1) : 'n/a'
  process.stdout.write(`\ndiagnosis top-1 accuracy: ${hits}/${positives} (${share}%)${misses.length ? `\n  misses: ${misses.join('; ')}` : ''}\n`)
})
