import type { ArtifactWhen, JobArtifact } from '../../payload/types.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenStrings, scalarString } from '../model/job.js'

/**
 * GitLab's report types: the file name and format it sends to the runner for each
 * (`Ci::JobArtifact::DEFAULT_FILE_NAMES` / `TYPE_AND_FORMAT_PAIRS`).
 */
const REPORTS: Record<string, { name: string; format: JobArtifact['artifact_format'] }> = {
  junit: { name: 'junit.xml', format: 'gzip' },
  dotenv: { name: '.env', format: 'gzip' },
  coverage_report: { name: 'cobertura-coverage.xml', format: 'gzip' },
  cobertura: { name: 'cobertura-coverage.xml', format: 'gzip' },
  codequality: { name: 'gl-code-quality-report.json', format: 'raw' },
  sast: { name: 'gl-sast-report.json', format: 'raw' },
  secret_detection: { name: 'gl-secret-detection-report.json', format: 'raw' },
  dependency_scanning: { name: 'gl-dependency-scanning-report.json', format: 'raw' },
  container_scanning: { name: 'gl-container-scanning-report.json', format: 'raw' },
  cluster_image_scanning: { name: 'gl-cluster-image-scanning-report.json', format: 'raw' },
  dast: { name: 'gl-dast-report.json', format: 'raw' },
  license_scanning: { name: 'gl-license-scanning-report.json', format: 'raw' },
  performance: { name: 'performance.json', format: 'raw' },
  browser_performance: { name: 'browser-performance.json', format: 'raw' },
  load_performance: { name: 'load-performance.json', format: 'raw' },
  metrics: { name: 'metrics.txt', format: 'gzip' },
  terraform: { name: 'tfplan.json', format: 'raw' },
  requirements: { name: 'requirements.json', format: 'raw' },
  requirements_v2: { name: 'requirements_v2.json', format: 'raw' },
  api_fuzzing: { name: 'gl-api-fuzzing-report.json', format: 'raw' },
  coverage_fuzzing: { name: 'gl-coverage-fuzzing.json', format: 'raw' },
  accessibility: { name: 'gl-accessibility.json', format: 'raw' },
  cyclonedx: { name: 'gl-sbom.cdx.json', format: 'gzip' },
  annotations: { name: 'gl-annotations.json', format: 'gzip' },
  repository_xray: { name: 'gl-repository-xray.json', format: 'gzip' },
}

function readWhen(v: unknown): ArtifactWhen {
  return v === 'on_failure' || v === 'always' ? v : 'on_success'
}

/**
 * `artifacts:` → the payload list GitLab sends (`Ci::BuildRunnerPresenter#artifacts`): one
 * `archive` entry for paths/untracked, then one entry per report, always uploaded.
 */
export function toArtifacts(v: unknown): JobArtifact[] | null {
  if (!isPlainObject(v)) return null
  const list: JobArtifact[] = []
  const expire = v['expire_in'] === undefined ? '' : scalarString(v['expire_in'])
  if (v['paths'] !== undefined || v['untracked'] === true) {
    list.push({
      name: v['name'] === undefined ? 'artifacts' : scalarString(v['name']),
      untracked: v['untracked'] === true,
      paths: flattenStrings(v['paths']),
      exclude: flattenStrings(v['exclude']),
      when: readWhen(v['when']),
      artifact_type: 'archive',
      artifact_format: 'zip',
      expire_in: expire,
    })
  }
  const reports = v['reports']
  if (isPlainObject(reports)) {
    for (const [type, paths] of Object.entries(reports)) {
      const known = REPORTS[type]
      const reportPaths = isPlainObject(paths) ? flattenStrings(paths['path']) : flattenStrings(paths)
      list.push({
        name: known?.name ?? `${type}.json`,
        untracked: false,
        paths: reportPaths,
        exclude: [],
        when: 'always',
        artifact_type: type === 'cobertura' ? 'cobertura' : type,
        artifact_format: known?.format ?? 'raw',
        expire_in: expire,
      })
    }
  }
  return list.length > 0 ? list : null
}
