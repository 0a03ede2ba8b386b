import { slugify } from './slug.js'
import type { PipelineVariable } from './types.js'

/** The GitLab version glrun's predefined variables claim (CI_SERVER_VERSION). */
export const SERVER_VERSION = '18.5.0'

export interface PredefinedInput {
  sha: string
  beforeSha: string
  ref: string
  refType: 'branch' | 'tag'
  defaultBranch: string
  pipelineSource: string
  projectPath: string
  projectName: string
  projectNamespace: string
  serverUrl: string
  host: string
  port: number
  protocol: string
  registry: string
  pipelineId: number
  pipelineIid: number
  projectId: number
  userId: number
  message: string
  authorName: string
  authorEmail: string
  committedAt: string
  userLogin: string
  userName: string
  userEmail: string
  createdAt: Date
}

/**
 * GitLab's pipeline-level predefined variables (doc/ci/variables/predefined_variables.md), in the
 * order GitLab lists them, with values derived from the local repository. Job-level ones
 * (CI_JOB_*, CI_NODE_*) are added by the compiler; runner-level ones (CI_PROJECT_DIR,
 * CI_BUILDS_DIR, CI_RUNNER_*) by the executor.
 */
export function predefinedVariables(p: PredefinedInput): PipelineVariable[] {
  const title = p.message.split('\n')[0] ?? ''
  // GitLab: "If the title is shorter than 100 characters, the message without the first line."
  const description = title.length < 100 ? p.message.split('\n').slice(1).join('\n').replace(/^\s+/, '') : p.message
  const [major = '0', minor = '0', patch = '0'] = SERVER_VERSION.split('.')
  const projectUrl = `${p.serverUrl}/${p.projectPath}`
  const vars: [string, string][] = [
    ['CI', 'true'],
    ['GITLAB_CI', 'true'],
    ['CI_SERVER', 'yes'],
    ['CI_SERVER_URL', p.serverUrl],
    ['CI_SERVER_HOST', p.host],
    ['CI_SERVER_PORT', String(p.port)],
    ['CI_SERVER_PROTOCOL', p.protocol],
    ['CI_SERVER_SHELL_SSH_HOST', p.host],
    ['CI_SERVER_SHELL_SSH_PORT', '22'],
    ['CI_SERVER_FQDN', p.port === 443 || p.port === 80 ? p.host : `${p.host}:${p.port}`],
    ['CI_SERVER_NAME', 'GitLab'],
    ['CI_SERVER_VERSION', SERVER_VERSION],
    ['CI_SERVER_VERSION_MAJOR', major],
    ['CI_SERVER_VERSION_MINOR', minor],
    ['CI_SERVER_VERSION_PATCH', patch],
    ['CI_SERVER_REVISION', 'glrun'],
    ['CI_API_V4_URL', `${p.serverUrl}/api/v4`],
    ['CI_API_GRAPHQL_URL', `${p.serverUrl}/api/graphql`],
    ['CI_PROJECT_ID', String(p.projectId)],
    ['CI_PROJECT_NAME', p.projectName],
    ['CI_PROJECT_TITLE', p.projectName],
    ['CI_PROJECT_DESCRIPTION', ''],
    ['CI_PROJECT_PATH', p.projectPath],
    ['CI_PROJECT_PATH_SLUG', slugify(p.projectPath)],
    ['CI_PROJECT_NAMESPACE', p.projectNamespace],
    ['CI_PROJECT_NAMESPACE_SLUG', slugify(p.projectNamespace)],
    ['CI_PROJECT_NAMESPACE_ID', '1'],
    ['CI_PROJECT_ROOT_NAMESPACE', p.projectNamespace.split('/')[0] ?? ''],
    ['CI_PROJECT_URL', projectUrl],
    ['CI_PROJECT_VISIBILITY', 'private'],
    ['CI_PROJECT_REPOSITORY_LANGUAGES', ''],
    ['CI_PROJECT_CLASSIFICATION_LABEL', ''],
    ['CI_DEFAULT_BRANCH', p.defaultBranch],
    ['CI_DEFAULT_BRANCH_SLUG', slugify(p.defaultBranch)],
    ['CI_CONFIG_PATH', '.gitlab-ci.yml'],
    ['CI_PAGES_DOMAIN', `pages.${p.host}`],
    ['CI_PAGES_HOSTNAME', `${p.projectNamespace.split('/')[0] ?? ''}.pages.${p.host}`],
    ['CI_PAGES_URL', `https://${p.projectNamespace.split('/')[0] ?? ''}.pages.${p.host}/${p.projectName}`],
    ['CI_REGISTRY', p.registry],
    ['CI_REGISTRY_IMAGE', `${p.registry}/${p.projectPath.toLowerCase()}`],
    ['CI_DEPENDENCY_PROXY_SERVER', p.port === 443 ? p.host : `${p.host}:${p.port}`],
    ['CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX', `${p.host}/${p.projectNamespace.split('/')[0] ?? ''}/dependency_proxy/containers`],
    ['CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX', `${p.host}/${p.projectNamespace}/dependency_proxy/containers`],
    ['CI_PIPELINE_ID', String(p.pipelineId)],
    ['CI_PIPELINE_IID', String(p.pipelineIid)],
    ['CI_PIPELINE_SOURCE', p.pipelineSource],
    ['CI_PIPELINE_URL', `${projectUrl}/-/pipelines/${p.pipelineId}`],
    ['CI_PIPELINE_CREATED_AT', p.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z')],
    ['CI_COMMIT_SHA', p.sha],
    ['CI_COMMIT_SHORT_SHA', p.sha.slice(0, 8)],
    ['CI_COMMIT_BEFORE_SHA', p.beforeSha],
    ['CI_COMMIT_REF_NAME', p.ref],
    ['CI_COMMIT_REF_SLUG', slugify(p.ref)],
    ...(p.refType === 'tag' ? [['CI_COMMIT_TAG', p.ref], ['CI_COMMIT_TAG_MESSAGE', '']] as [string, string][] : [['CI_COMMIT_BRANCH', p.ref]] as [string, string][]),
    ['CI_COMMIT_MESSAGE', p.message],
    ['CI_COMMIT_TITLE', title],
    ['CI_COMMIT_DESCRIPTION', description],
    ['CI_COMMIT_REF_PROTECTED', String(p.refType === 'branch' && p.ref === p.defaultBranch)],
    ['CI_COMMIT_TIMESTAMP', isoUtc(p.committedAt)],
    ['CI_COMMIT_AUTHOR', `${p.authorName} <${p.authorEmail}>`],
    ['GITLAB_USER_ID', String(p.userId)],
    ['GITLAB_USER_EMAIL', p.userEmail],
    ['GITLAB_USER_LOGIN', p.userLogin],
    ['GITLAB_USER_NAME', p.userName],
    ['GITLAB_FEATURES', ''],
  ]
  return vars.map(([key, value]) => ({ key, value, public: true }))
}

function isoUtc(s: string): string {
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? s : d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
