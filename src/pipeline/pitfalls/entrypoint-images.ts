/**
 * Images whose ENTRYPOINT is a tool rather than a shell. Data only, deliberately short: an entry
 * belongs here only when its published images have had that ENTRYPOINT for years, so a warning
 * about it is right. The Docker executor starts the image's ENTRYPOINT with the job's shell as
 * arguments: these tools then print their usage or "unknown command" instead of running the
 * script (taxonomy `image_entrypoint_override`).
 *
 * Left out on purpose: google/cloud-sdk (no ENTRYPOINT), curlimages/curl and hashicorp/vault
 * (their entrypoint scripts run any other command as given), docker/compose and
 * returntocorp/semgrep (ENTRYPOINT changed between releases).
 */
export interface EntrypointImage {
  /** Repository path, matched whole or after a registry/mirror prefix (see `isRepository`). */
  readonly repository: string
  /** The program its ENTRYPOINT runs. */
  readonly program: string
  /**
   * Tags that contain a shell, for images whose other tags have none (taxonomy
   * `image_missing_shell`); undefined when every tag has one.
   */
  readonly shellTags?: RegExp
  /** How to name a debug tag: `<tag>-debug` (kaniko's `v1.23.2-debug`) or plain `debug`. */
  readonly debugTag?: 'suffix' | 'plain'
}

export const ENTRYPOINT_IMAGES: readonly EntrypointImage[] = [
  // Built FROM scratch; only the :debug tags add a busybox shell (at /busybox/sh).
  { repository: 'kaniko-project/executor', program: '/kaniko/executor', shellTags: /debug/, debugTag: 'suffix' },
  { repository: 'hashicorp/terraform', program: 'terraform' },
  { repository: 'hashicorp/packer', program: 'packer' },
  { repository: 'alpine/git', program: 'git' },
  { repository: 'alpine/helm', program: 'helm' },
  { repository: 'bitnami/kubectl', program: 'kubectl' },
  { repository: 'aquasec/trivy', program: 'trivy' },
  { repository: 'amazon/aws-cli', program: 'aws' },
  { repository: 'minio/mc', program: 'mc' },
]

/**
 * Images with no shell at all except in their debug tags: Google's distroless images
 * (gcr.io/distroless/<name>, `:debug` tags add busybox).
 */
export const NO_SHELL_IMAGES: readonly { readonly pattern: RegExp; readonly shellTags: RegExp; readonly debugTag: 'suffix' | 'plain' }[] = [
  { pattern: /(?:^|\/)distroless\/[^/]+$/, shellTags: /debug/, debugTag: 'plain' },
]

/**
 * Interpreters that, as a whole `entrypoint: [...]`, take the job's shell command for a script
 * file to run ("sh" does not exist as a Python/Node/Ruby/Perl/Java program).
 */
export const INTERPRETERS: ReadonlySet<string> = new Set(['python', 'python3', 'node', 'ruby', 'perl', 'java'])
