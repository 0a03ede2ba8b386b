import { compilePipeline } from '../../src/pipeline/compile.js'
import type { PipelineContext } from '../../src/pipeline/context/types.js'
import type { CompiledPipeline } from '../../src/pipeline/plan/types.js'

/**
 * Compiles a `.gitlab-ci.yml` text in memory, for unit tests of checks that read planned jobs:
 * a fixed context (branch main of group/proj), no git repository, no includes from disk.
 * `projectDir` is only where checks that read files look.
 */
export async function compileYaml(yaml: string, opts: { projectDir?: string; variables?: Record<string, string> } = {}): Promise<CompiledPipeline> {
  const ctx: PipelineContext = {
    projectDir: opts.projectDir ?? '/nonexistent/project', sha: 'a'.repeat(40), beforeSha: 'b'.repeat(40), ref: 'main', refType: 'branch', defaultBranch: 'main',
    pipelineSource: 'push', projectPath: 'group/proj', projectName: 'proj', projectNamespace: 'group', serverUrl: 'https://gitlab.example.com',
    repoUrl: 'https://gitlab.example.com/group/proj.git', pipelineId: 1, pipelineIid: 1, projectId: 1, userId: 1,
    predefined: [{ key: 'CI_COMMIT_BRANCH', value: 'main' }, { key: 'CI_REGISTRY_IMAGE', value: 'registry.example.com/group/proj' }, { key: 'CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX', value: 'gitlab.example.com:443/group/dependency_proxy/containers' }],
    userVariables: Object.entries(opts.variables ?? {}).map(([key, value]) => ({ key, value })),
    changedFiles: () => null, treeFiles: () => [],
  }
  return compilePipeline({ ctx, rootText: yaml })
}
