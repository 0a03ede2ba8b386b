import type { RunnerSettings } from '../runner-config/types.js'
import { DockerExecutor } from './docker/docker-executor.js'
import { shortToken } from '../runner-config/short-token.js'
import { LazyExecutor } from './lazy-executor.js'
import { ShellExecutor } from './shell/shell-executor.js'
import type { Executor } from './types.js'

/** The executors this build of glrun has, by name (the one place they are plugged in). */
export const EXECUTORS: Record<string, (runner: RunnerSettings | undefined) => Executor> = {
  shell: () => new ShellExecutor(),
  // With no config.toml, local runs use images already here before asking a registry
  // (gitlab-ci-local's habit); a config without pull_policy gets gitlab-runner's "always".
  docker: (runner) => new DockerExecutor(runner ? runner.docker ?? {} : { pullPolicy: ['if-not-present'] }),
  // Without a config.toml: the kubeconfig's current context, namespace "default".
  // Loaded on first use: the Kubernetes client is half of glrun's code, and most runs never need it.
  kubernetes: (runner) => new LazyExecutor('kubernetes', async () => {
    const [{ KubernetesExecutor }, { kubernetesOptions }] = await Promise.all([import('./kubernetes/kubernetes-executor.js'), import('./kubernetes/options.js')])
    return new KubernetesExecutor(kubernetesOptions(runner?.kubernetes, runner?.featureFlags), runner ? { runnerName: runner.name, ...(runner.token ? { shortToken: shortToken(runner.token) } : {}) } : {})
  }),
}
