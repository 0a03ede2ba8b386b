import { createHash } from 'node:crypto'
import { stringify } from 'yaml'
import { ExecutorFailure } from '../../executors/failure.js'
import { kubernetesOptions } from '../../executors/kubernetes/options.js'
import { applyOverwrites } from '../../executors/kubernetes/overwrites.js'
import { DEFAULT_HELPER_IMAGE, buildPod, podName } from '../../executors/kubernetes/pod-spec.js'
import { GlrunError } from '../../diagnostics/errors.js'
import type { PlannedJob } from '../../pipeline/plan/types.js'
import { shortToken } from '../../runner-config/short-token.js'
import type { RunnerSettings } from '../../runner-config/types.js'

/**
 * `glrun compile JOB --pod`: the Pod the kubernetes executor would create for each job, built
 * from the runner's [runners.kubernetes] without touching a cluster, for operators to check
 * against their cluster's policies first. The random part of the name is derived from the job
 * (stable output); at run time glrun draws it and adds the labels glrun.dev/host and
 * glrun.dev/pid (what lets it delete pods a killed glrun left behind).
 */
export function podManifests(jobs: readonly PlannedJob[], runner: RunnerSettings | undefined, json: boolean): string {
  const runnerOpts = kubernetesOptions(runner?.kubernetes, runner?.featureFlags)
  const token = runner?.token ? shortToken(runner.token) : 'glrun'
  const pods = jobs.map((j) => {
    // The job's KUBERNETES_* overwrites, as far as config.toml allows them (a refused one is the job's error at run time).
    let opts = runnerOpts
    try {
      opts = applyOverwrites(runnerOpts, j.payload).opts
    } catch (e) {
      if (!(e instanceof ExecutorFailure)) throw e
      throw new GlrunError(e.code, `job "${j.name}": ${e.message}`, e.hint ? { hint: e.hint } : {})
    }
    const image = j.payload.image?.name || opts.image
    if (!image) {
      throw new GlrunError('GLRUN_K8S_NO_IMAGE', `job "${j.name}" has no image and the runner has no default image`, { hint: 'Add `image:` to the job (or `default:`), or set `image = "…"` under [runners.kubernetes] in config.toml.' })
    }
    const random = createHash('sha256').update(`${j.name}\0${j.payload.id}`).digest('hex').slice(0, 8)
    const name = podName(j.payload, token, random)
    return buildPod(j.payload, opts, { name, session: random, shortToken: token, ...(runner ? { runnerName: runner.name } : {}) }, image, opts.helperImage ?? DEFAULT_HELPER_IMAGE).pod
  })
  if (json) return `${JSON.stringify(pods.length === 1 ? pods[0] : { apiVersion: 'v1', kind: 'List', items: pods }, null, 2)}\n`
  const note = '# The Pod glrun\'s kubernetes executor creates for this job (glrun compile --pod).\n# At run time the name ends in 8 random characters and the labels glrun.dev/host and glrun.dev/pid are added.\n'
  return pods.map((p) => note + stringify(p, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n')
}
