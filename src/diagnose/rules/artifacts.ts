import { Scan, diagnosis, evidence, phaseName } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Artifacts and cache. These run after the script, so phase decides weight: an upload error
 * after a *successful* script is why the job failed; after a failed script it is a follow-on
 * (the runner reports the script error first), and cache warnings never fail a job by themselves.
 */

const TOO_LARGE = /too large archive|413 (?:Request Entity|Payload) Too Large|responseStatus=413|status=413/i
const NO_FILES = /^ *(?:\d+ )?(?:WARNING: )?(\S.*?): no matching files/
const NOTHING = /ERROR: No files to upload/
// GoCloud's S3 HeadObject 403 (cache_extractor.go adds the ListBucket hint) and the runner's own log when it cannot sign (IRSA role not assumable) say it without a level prefix too.
// Anchored at the first WARNING/ERROR/FATAL of the line: the unanchored form retried ".*" from every
// one of them, quadratic on a long line of repeated "ERROR: " (0.3 s at 80k characters).
const CACHE_DENIED = /^FATAL: received: 40[13] Forbidden|^(?:(?!WARNING|ERROR|FATAL).)*(?:WARNING|ERROR|FATAL).*(?:Failed to (?:upload|download|extract|create) cache|AccessDenied|Access Denied|SignatureDoesNotMatch|InvalidAccessKeyId|No URL provided, cache will not be (?:uploaded|downloaded)|NoSuchBucket|ExpiredToken|received: 40[13] (?:Forbidden|Unauthorized))|operation error S3: \w+, https response error StatusCode: 403|HeadObject without s3::ListBucket permissions|Not authorized to perform sts:AssumeRoleWithWebIdentity|error while generating S3 pre-signed URL/
// gitlab-runner's shell scripts run its own binary inside the job's environment for artifacts and
// caches (shells/abstract.go guardRunnerCommand): without it the step is skipped with this warning.
const UPLOADER_MISSING = /Missing (.+?)\. (Uploading artifacts|Artifacts downloading|Downloading artifacts|Extracting cache|Creating cache) is disabled\.|(Uploading artifacts|Artifacts downloading|Extracting cache|Creating cache) is not supported by this executor\./
// Report types GitLab stores in the "raw" format (code quality, and other single-document reports) take one file.
const RAW_ONE = /Uploading artifacts as "(\w+)" to coordinator\.\.\. error .*only one file can be sent as raw|only one file can be sent as raw/
const BUCKET = /bucket[ =:"]+([\w.-]+)|s3:\/\/([\w.-]+)|https?:\/\/([\w.-]+)\.s3[.-]/i

function tooLarge(s: Scan): Diagnosis[] {
  const hit = s.last(TOO_LARGE)
  if (!hit) return []
  const paths = /^(?:\s*paths:\s*\n)((?:\s+-\s+.+\n?)+)/m.exec(s.ev.ciYaml ?? '')?.[1]?.trim()
  return [diagnosis('artifacts_too_large', 'The artifacts archive is larger than GitLab accepts',
    `GitLab (or the reverse proxy in front of it) rejected the upload as too large (413)${paths ? `; artifacts:paths is ${paths.split('\n').map((p) => p.replace(/^\s*-\s*/, '')).join(', ')}` : ''}.`,
    evidence(s.near(hit.line.n, /Uploading artifacts/, 3), hit), [
      { text: 'Upload less: narrow artifacts:paths and exclude build trees, databases, images.', snippet: 'artifacts:\n  paths:\n    - dist/\n  exclude:\n    - dist/**/*.map\n  expire_in: 1 week' },
      { text: 'Or raise the limit where it applies: Admin → Settings → CI/CD → Maximum artifacts size (instance, group, project), and the proxy body limit.', snippet: '# nginx in front of GitLab\nclient_max_body_size 1g;' },
      { text: 'Publish big outputs elsewhere (package registry, object storage).' },
    ], phaseName(hit.line.section) === 'upload_artifacts_on_failure' ? 0.5 : 0.9)]
}

function noFiles(s: Scan): Diagnosis[] {
  const nothing = s.last(NOTHING)
  const warn = s.all(NO_FILES).filter((h) => /upload_artifacts|^$/.test(phaseName(h.line.section)) || (nothing && h.line.n < nothing.line.n && nothing.line.n - h.line.n < 6)).pop()
  if (!warn && !nothing) return []
  if (!nothing && phaseName(warn?.line.section) !== 'upload_artifacts_on_success') return []
  const path = warn?.m[1]?.trim() ?? '<path>'
  // Without section markers the runner's own heading says which upload this is.
  const afterFailure = phaseName((nothing ?? warn)?.line.section) === 'upload_artifacts_on_failure' || s.has(/Uploading artifacts for failed job/)
  const absolute = path.startsWith('/')
  // The uploader went on and the coordinator took the rest: the missing path was a warning, and the job
  // failed on something else (its script's exit code).
  const uploaded = warn !== undefined && !nothing && s.ev.trace.lines.some((l) => l.n > warn.line.n && /Uploading artifacts (?:as "[^"]+" )?to coordinator\.\.\. (?:ok|201 Created)/.test(l.text))
  return [diagnosis('artifacts_no_matching_files', `No files matched the artifact path ${path}`,
    `${afterFailure ? 'After the script failed, the' : 'The'} artifact upload found nothing at ${path}${absolute ? ': artifact paths must be relative to $CI_PROJECT_DIR' : ': the tool did not write it, wrote it elsewhere (another working directory or file name), or wrote it outside the project directory'}.`,
    evidence(warn, nothing), [
      { text: 'Point artifacts:paths at what the job really writes, relative to the project directory; check with ls in the job.', snippet: `artifacts:\n  paths:\n    - ${absolute ? path.replace(/^\/builds\/[^/]+\/[^/]+\//, '') || 'build/' : path}\nafter_script:\n  - ls -laR ${absolute ? '.' : path.replace(/\*.*$/, '') || '.'}` },
      { text: 'Write outputs inside $CI_PROJECT_DIR (tools that default to /tmp or $HOME need an output flag).' },
      { text: 'For when: always, only use reports that tolerate absence.' },
    ], uploaded ? 0.25 : afterFailure ? 0.35 : 0.85)]
}

function cacheDenied(s: Scan): Diagnosis[] {
  const hit = s.all(CACHE_DENIED).filter((h) => !/FATAL: file does not exist/.test(h.line.text)).pop()
  if (!hit) return []
  const bucket = (() => { const m = BUCKET.exec(hit.line.text); return m?.[1] ?? m?.[2] ?? m?.[3] })()
  const noUrl = /No URL provided/.test(hit.line.text)
  const arn = bucket ?? '<bucket>'
  return [diagnosis('cache_s3_access_denied', `The runner cannot ${/upload|uploaded/.test(hit.line.text) ? 'upload' : 'download'} the cache${bucket ? ` (bucket ${bucket})` : ''}`,
    noUrl
      ? 'The cache server returned no pre-signed URL: [runners.cache.s3] credentials, bucket or region are wrong or missing.'
      : `The object store refused the cache ${/upload/.test(hit.line.text) ? 'upload' : 'download'}: the runner's credentials or IAM policy do not allow it (ListBucket on the bucket, Get/PutObject on its objects), or the bucket/region/endpoint is wrong.`,
    evidence(hit), [
      { text: 'Fix the IAM policy: ListBucket on the bucket ARN, object actions on bucket/*.', snippet: `{\n  "Effect": "Allow",\n  "Action": ["s3:ListBucket"],\n  "Resource": "arn:aws:s3:::${arn}"\n},\n{\n  "Effect": "Allow",\n  "Action": ["s3:GetObject", "s3:PutObject"],\n  "Resource": "arn:aws:s3:::${arn}/*"\n}` },
      { text: 'Check the cache settings in config.toml.', snippet: `[runners.cache]\n  Type = "s3"\n  Shared = true\n  [runners.cache.s3]\n    ServerAddress = "s3.amazonaws.com"\n    BucketName = "${arn}"\n    BucketLocation = "<region>"\n    AuthenticationType = "iam"` },
      { text: `Verify from the runner host: aws s3 ls s3://${arn}/ && aws s3api head-bucket --bucket ${arn}` },
    ], s.ev.trace.failed && s.beforeFailure(hit.line) ? 0.45 : 0.7)]
}

// gitlab-runner's cache helpers at info level (commands/helpers/cache_extractor.go, cache_archiver.go): no
// distributed cache URL, so only this runner host's local cache is used.
// 12.0–14.5 said "will be not"; the upload side later ends "Cache will be stored only locally."
const LOCAL_CACHE_ONLY = /No URL provided, cache will (?:not be|be not) (downloaded from|uploaded to) shared cache server\. (?:Instead a local version of cache will be (extracted|archived)|Cache will be stored only locally)/

function localCacheOnly(s: Scan): Diagnosis[] {
  const hit = s.all(LOCAL_CACHE_ONLY).filter((h) => !/^(?:WARNING|ERROR|FATAL)/.test(h.line.text)).pop()
  if (!hit) return []
  // The notice is in the log of every job on such a runner: the answer only when nothing failed after it.
  const later = s.failsAfter(hit.line.n)
  return [diagnosis('cache_not_shared', 'The cache is only kept on this runner host, not shared',
    'The runner has no distributed cache ([runners.cache] with S3, GCS or Azure), so each runner host keeps its own copy: a job that lands on another runner (or another docker+machine VM, or a new Kubernetes pod without a cache volume) finds no cache, and what it creates stays where it ran.',
    evidence(hit), [
      { text: 'Configure a shared cache for all runners that run these jobs (S3, MinIO, GCS, Azure).', snippet: '[runners.cache]\n  Type = "s3"\n  Shared = true\n  [runners.cache.s3]\n    ServerAddress = "<s3 or minio host>"\n    BucketName = "<bucket>"\n    AccessKey = "<key>"\n    SecretKey = "<secret>"' },
      { text: 'Or keep the jobs that share a cache on one runner (tags), or pass the files as artifacts instead.', snippet: 'job:\n  tags: [<one runner>]' },
      { text: 'If an S3 cache is configured, the runner could not sign its URL: read the runner\'s own log for the S3 error.', snippet: 'sudo journalctl -u gitlab-runner | grep -i cache' },
    ], later ? 0.25 : 0.55)]
}

function uploaderMissing(s: Scan): Diagnosis[] {
  const hit = s.last(UPLOADER_MISSING)
  if (!hit) return []
  const binary = hit.m[1] ?? 'gitlab-runner'
  // After the script failed (the on-failure upload) it is a side effect, not the cause; before the
  // script a job can still fail for its own reasons.
  const where = phaseName(hit.line.section)
  const afterFailure = where === 'upload_artifacts_on_failure' || s.has(/Uploading artifacts for failed job/)
  const beforeScript = ['restore_cache', 'download_artifacts'].includes(where)
  const confidence = afterFailure ? 0.25 : beforeScript ? 0.45 : 0.8
  const action = (hit.m[2] ?? hit.m[3] ?? 'Uploading artifacts').toLowerCase()
  const unsupported = hit.m[3] !== undefined
  return [diagnosis('artifacts_uploader_missing', unsupported ? `This executor cannot do "${action}"` : `${binary} is not in the job's environment, so ${action} was skipped`,
    unsupported
      ? `The runner says ${action} is not supported by this executor: artifacts and caches need an executor that runs gitlab-runner's helper commands (docker, kubernetes, shell, or a custom executor whose environment has gitlab-runner).`
      : `Artifacts and caches are moved by the ${binary} binary run inside the job's own environment (the runner's host user for the shell executor, the VM for a custom executor, the helper image for docker and kubernetes); "${binary} --version" failed there, so the runner skipped ${action} with a warning and the next jobs get no artifacts or cache.`,
    evidence(hit), [
      { text: `Custom executor (VMs): install ${binary} in the VM image, on the PATH of the user that runs the job.`, snippet: `sudo curl -fL -o /usr/local/bin/${binary} https://gitlab-runner-downloads.s3.amazonaws.com/latest/binaries/gitlab-runner-linux-amd64
sudo chmod 0755 /usr/local/bin/${binary}
${binary} --version` },
      { text: `Shell executor: make ${binary} reachable on the PATH of the runner's user (a PATH reset in .bashrc or a login profile hides it).`, snippet: `sudo -u gitlab-runner -i sh -c 'command -v ${binary}'` },
      { text: 'Docker / Kubernetes: use the stock helper image (helper_image in config.toml unset, or one built from gitlab-runner-helper).' },
    ], confidence)]
}

function reportRejected(s: Scan): Diagnosis[] {
  const hit = s.last(RAW_ONE)
  if (!hit) return []
  const type = hit.m[1] ?? /artifact_type=(\w+)/.exec(hit.line.text)?.[1]
  const key = type ?? '<type>'
  // After a script that failed, the upload is a follow-on: the script's failure is the answer.
  const afterFailure = s.has(/^Uploading artifacts for failed job/) || phaseName(hit.line.section) === 'upload_artifacts_on_failure'
  return [diagnosis('artifacts_report_rejected', `GitLab refused ${type ? `the ${type} report` : 'a report artifact'}: more than one file`,
    `The runner uploads ${type ? `"${type}" reports` : 'this report type'} in GitLab's raw format, which takes exactly one file, and the job's artifacts:reports:${key} path matched several (or a directory), so GitLab answered "only one file can be sent as raw" and the uploader retried in vain.`,
    evidence(s.near(hit.line.n, /Uploading artifacts/, 3), hit), [
      { text: 'Write one report file and list only that path.', snippet: `artifacts:\n  reports:\n    ${key}: gl-${type ?? 'report'}.json   # one file, not a glob` },
      // Code quality reports are JSON arrays, which concatenate; other reports are objects, which do not.
      type === 'codequality'
        ? { text: 'For several tools, concatenate their code quality arrays in the job.', snippet: 'jq -s "add" hadolint.json eslint.json > gl-codequality.json' }
        : { text: 'For several tools, give each its own job (one report each), or use the tool\'s own way to merge its reports; a report is one JSON object, so concatenating files keeps only one of them.' },
    ], afterFailure ? 0.35 : 0.85)]
}

export const artifactsRule: Rule = {
  id: 'artifacts',
  categories: ['artifacts_too_large', 'artifacts_no_matching_files', 'cache_s3_access_denied', 'artifacts_uploader_missing', 'cache_not_shared', 'artifacts_report_rejected'],
  match(ev) {
    const s = Scan.of(ev)
    return [...tooLarge(s), ...noFiles(s), ...reportRejected(s), ...cacheDenied(s), ...uploaderMissing(s), ...localCacheOnly(s)]
  },
}
