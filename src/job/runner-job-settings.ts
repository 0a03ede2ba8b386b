import { readFileSync } from 'node:fs'
import { GlrunError } from '../diagnostics/errors.js'
import type { RunnerSettings } from '../runner-config/types.js'
import type { RunnerJobSettings } from './run-job.js'

/** What the runner's config adds to every job; tls-ca-file is read now so a bad path fails early. */
export function runnerJobSettings(r: RunnerSettings): RunnerJobSettings {
  let caPem: string | undefined
  if (r.tlsCaFile) {
    try {
      caPem = readFileSync(r.tlsCaFile, 'utf8')
    } catch (e) {
      throw new GlrunError('GLRUN_CONFIG_TLS_CA_FILE', `tls-ca-file "${r.tlsCaFile}" of runner "${r.name}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Point tls-ca-file at the PEM file of the CA that signed your GitLab certificate.' })
    }
  }
  return {
    environment: r.environment,
    ...(r.preGetSourcesScript ? { preGetSourcesScript: r.preGetSourcesScript } : {}),
    ...(r.postGetSourcesScript ? { postGetSourcesScript: r.postGetSourcesScript } : {}),
    ...(r.preBuildScript ? { preBuildScript: r.preBuildScript } : {}),
    ...(r.postBuildScript ? { postBuildScript: r.postBuildScript } : {}),
    ...(caPem ? { caPem } : {}),
  }
}

