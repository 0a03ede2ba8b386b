import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * An image pull or push refused for the *format* of its manifest, not its name or credentials
 * (image_manifest_format_unsupported, proposed by the corpus's nineteenth pass). Images are now
 * published with OCI media types (official images, BuildKit's defaults) and BuildKit attaches
 * attestations as OCI artifacts with a `subject`; a registry, pull-through mirror or runtime that
 * knows only Docker's schema-2 types, or that checks references, refuses them.
 *
 * An old Docker in the job that the log names (a docker:19.03 image) stays toolchain_version_too_old:
 * there the fix is a current docker image, and the corpus labels it so.
 */

// distribution's schema2 reader with an OCI body under a Docker media type.
const OCI_UNDER_DOCKER = /mediaType in manifest (?:list )?should be 'application\/vnd\.docker\.distribution\.manifest\.(?:list\.)?v2\+json' not 'application\/vnd\.oci\.image\.(?:manifest|index)\.v1\+json'/
// distribution's answer to a GET whose Accept header lists no OCI types (an old Docker, a script's curl or
// crane with Docker-only Accept headers).
const OCI_NOT_ACCEPTED = /OCI (?:manifest|index) found, but (?:the )?accept header does not support OCI (?:manifests|indexes)/i
// A registry refusing what a push sent: the manifest itself, or (BuildKit attestations only) a manifest whose
// subject it does not know. "blob unknown" on a plain push is a layer missing from the repository.
const PUSH_REFUSED = /MANIFEST_INVALID|manifest invalid|unknown media type|unsupported manifest media type|blob unknown to registry/i
// BuildKit in the job (buildx, its "failed to solve"), which attaches attestations by default.
const BUILDKIT = /buildx|failed to solve|provenance|attestation|sbom/i
const PUSH = /failed to push|\bpush(?:ing)?\b|--push\b|Pushing|error pushing|PUT .*\/manifests\//i

function mirrorPull(s: Scan, hit: Hit): Diagnosis[] {
  const old = s.first(/\bdocker:(1\d\.\d+(?:\.\d+)?)(?:-dind)?\b/)
  const version = old?.m[1]
  const ref = /(?:pull|FROM|Pulling from|pulling image)\s+"?([^\s"]+)/i.exec(`${s.commandAt(hit.line.n)?.text ?? ''} ${hit.line.text}`)?.[1]
  const host = ref && /^[\w-]+(?:\.[\w-]+)+(?::\d+)?\//.test(ref) ? ref.split('/')[0] : undefined
  // Straight from Docker Hub (no registry host in the name) nothing in between relabels the manifest
  // unless the daemon has a registry mirror: the Docker in the job is the first suspect.
  const hub = (host === undefined || host === 'docker.io') && (ref !== undefined || s.near(hit.line.n, /: Pulling from library\//, 3) !== undefined)
  const clientFirst = version !== undefined || hub
  const quote = `"${hit.line.text.trim().slice(0, 160)}"`
  const oldDocker = diagnosis('toolchain_version_too_old', `${clientFirst ? 'The' : 'Or: the'} Docker in this job${version ? ` (${version})` : ''} may be too old for OCI image manifests`,
    `${quote}: the image is published with an OCI manifest${version ? `, and this job runs Docker ${version}; jobs on such old Docker releases failed this way and a current docker image fixed them` : '; an old Docker in the job (its docker image and dind service) or on the host can fail on it'}.`,
    evidence(old, s.commandAt(hit.line.n), hit), [
      { text: 'Use a current docker image and dind service (and a current engine on the runner host).', snippet: 'image: docker:27\nservices:\n  - docker:27-dind' },
    ], version ? 0.85 : hub ? 0.7 : 0.45)
  const fixes: Fix[] = [
    { text: `Upgrade the mirror or pull-through cache${host ? ` (${host})` : ''} (Harbor's proxy cache and Nexus before 3.71 pass OCI manifests on under a Docker media type), or pull this image straight from its registry.`, snippet: `docker pull ${ref?.replace(/^[^/]+\//, 'docker.io/') ?? '<registry>/<image>'}` },
    { text: 'Until then, pin a tag or digest still published with a Docker v2 manifest.' },
    { text: 'A current Docker in the job and on the nodes reads OCI manifests.', snippet: 'image: docker:27\nservices:\n  - docker:27-dind' },
  ]
  const format = diagnosis('image_manifest_format_unsupported', `${clientFirst ? 'Or: the' : 'The'} image's OCI manifest was refused on the way${host ? ` (through ${host})` : ''}`,
    `${quote}: the image is published with OCI media types, and something between the registry and the ${s.family === 'kubernetes' ? 'node' : 'Docker engine'} knows only Docker's schema-2 types: a registry mirror or pull-through cache${host ? ` such as ${host}` : ' (a registry-mirrors entry of the daemon)'} relabelling the manifest, or an old engine.`,
    evidence(s.commandAt(hit.line.n), hit), fixes, clientFirst ? 0.5 : 0.7)
  return clientFirst ? [oldDocker, format] : [format, oldDocker]
}

function pushRefused(s: Scan, hit: Hit): Diagnosis[] {
  const buildx = s.has(BUILDKIT)
  const gitlab = s.has(/registry\.gitlab\.com|\$CI_REGISTRY|CI_REGISTRY_IMAGE/)
  const blob = /blob unknown/i.test(hit.line.text)
  return [diagnosis('image_manifest_format_unsupported', 'The registry refused the image\'s manifest on push',
    `"${hit.line.text.trim().slice(0, 160)}": the registry${gitlab ? ' (GitLab\'s container registry)' : ''} did not accept what the push sent.${buildx ? ` BuildKit attaches provenance (and SBOM) attestations as OCI artifacts that point at the image manifest${blob ? '; a registry that checks those references refuses one whose subject it does not know yet' : ', which registries without OCI artifact support refuse'}.` : ' A registry that knows only Docker\'s schema-2 types refuses OCI manifests and indexes.'}`,
    evidence(s.commandAt(hit.line.n), hit), [
      ...(buildx ? [{ text: 'Push without attestations (or with Docker media types).', snippet: 'docker buildx build --provenance=false --sbom=false --push -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA" .\n# or: variables: { BUILDX_NO_DEFAULT_ATTESTATIONS: "1" }\n# or: --output type=image,oci-mediatypes=false,push=true' }] : []),
      { text: 'Upgrade the registry (or use one with OCI image index and artifact support).' },
      ...(buildx ? [] : [{ text: 'Build with Docker media types.', snippet: 'docker buildx build --output type=image,oci-mediatypes=false,push=true .' }]),
    ], buildx ? 0.7 : 0.55)]
}

function notAccepted(s: Scan, hit: Hit): Diagnosis[] {
  const cmd = s.commandAt(hit.line.n)?.text ?? ''
  const script = /^\$ (?:curl|wget|crane|skopeo|regctl|http)\b/.test(cmd)
  return [diagnosis('image_manifest_format_unsupported', 'The registry has the image only with OCI media types, and the client does not accept them',
    `"${hit.line.text.trim().slice(0, 160)}": the image exists, published with an OCI manifest or index, and the ${script ? 'request' : 'client'} asked only for Docker's schema-2 types${script ? ' (its Accept header)' : ': an old Docker in the job, or an old engine on the runner host'}.`,
    evidence(s.commandAt(hit.line.n), hit), [
      script
        ? { text: 'Accept OCI types in the request.', snippet: 'curl -H "Accept: application/vnd.oci.image.index.v1+json" -H "Accept: application/vnd.oci.image.manifest.v1+json" -H "Accept: application/vnd.docker.distribution.manifest.list.v2+json" …' }
        : { text: 'Use a current docker image and dind service (and a current engine on the runner host).', snippet: 'image: docker:27\nservices:\n  - docker:27-dind' },
      { text: 'Or pin a tag or digest still published with Docker media types.' },
    ], 0.75)]
}

function manifestFormat(s: Scan): Diagnosis[] {
  const pulled = s.last(OCI_UNDER_DOCKER)
  if (pulled) return mirrorPull(s, pulled)
  const refused = s.last(OCI_NOT_ACCEPTED)
  if (refused) return notAccepted(s, refused)
  // "blob unknown" counts only with BuildKit's attestations in the job: otherwise it is a missing layer.
  const attestations = s.has(BUILDKIT)
  const pushed = s.all(PUSH_REFUSED).filter((h) => PUSH.test(`${h.line.text} ${s.commandAt(h.line.n)?.text ?? ''}`) && (attestations || !/blob unknown/i.test(h.line.text))).pop()
  return pushed ? pushRefused(s, pushed) : []
}

export const manifestFormatRule: Rule = {
  id: 'manifest-format',
  categories: ['image_manifest_format_unsupported', 'toolchain_version_too_old'],
  match: (ev) => manifestFormat(Scan.of(ev)),
}
