import type { Family } from './scan.js'
import type { Fix } from './types.js'

/**
 * Ready-to-paste fixes shared by several rule families. Values the log cannot tell (an IP, a
 * resolver) become visible `<placeholders>` so a paste never silently applies a wrong value.
 */

export function ipOrPlaceholder(host: string, ip: string | undefined): string {
  return ip ?? `<IP of ${host}>`
}

export function extraHostsFix(host: string, ip: string | undefined): Fix {
  // A name the runner host maps to its own loopback means "this machine"; inside a container
  // loopback is the container, so the pin must be the host's address on the bridge.
  if (ip && /^(127\.|::1$)/.test(ip)) {
    return {
      text: `Docker executor: ${host} is this runner host itself (it resolves to ${ip} here), and loopback inside a container is the container. Map the name to the host's bridge address (Docker's host-gateway), or run jobs on the host network (network_mode = "host").`,
      snippet: `[runners.docker]\n  extra_hosts = ["${host}:host-gateway"]`,
    }
  }
  return {
    text: `Docker executor: add ${host} to every job container's /etc/hosts (config.toml, then restart the runner).`,
    snippet: `[runners.docker]\n  extra_hosts = ["${host}:${ipOrPlaceholder(host, ip)}"]`,
  }
}

export function hostAliasesFix(host: string, ip: string | undefined): Fix {
  return {
    text: `Kubernetes executor: add a hostAliases entry for ${host} to the job pod (config.toml, or the Helm chart's runners.config, then helm upgrade).`,
    snippet: `[[runners.kubernetes.host_aliases]]\n  ip = "${ipOrPlaceholder(host, ip)}"\n  hostnames = ["${host}"]`,
  }
}

/** The same host alias through the Helm chart, which renders config.toml from `runners.config`. */
export function helmHostAliasesFix(host: string, ip: string | undefined): Fix {
  return {
    text: 'Runner installed with the Helm chart: put it in the values file, then helm upgrade --install with it.',
    snippet: `runners:
  config: |
    [[runners]]
      [runners.kubernetes]
        [[runners.kubernetes.host_aliases]]
          ip = "${ipOrPlaceholder(host, ip)}"
          hostnames = ["${host}"]`,
  }
}

/** Both name→IP pins, the one for the job's executor first (the other is for the next runner). */
export function hostMappingFixes(family: Family | undefined, host: string, ip: string | undefined): Fix[] {
  const k8s = hostAliasesFix(host, ip)
  const docker = extraHostsFix(host, ip)
  return family === 'kubernetes' ? [k8s, helmHostAliasesFix(host, ip), docker] : [docker, k8s]
}

export function jobDnsFix(family: Family | undefined): Fix {
  return family === 'kubernetes'
    ? {
        text: 'Give job pods a resolver that knows the name (cluster DNS forwarders, or a pod DNS config).',
        snippet: '[runners.kubernetes]\n  dns_policy = "none"\n  [runners.kubernetes.dns_config]\n    nameservers = ["<IP of your internal DNS server>"]',
      }
    : {
        text: 'Point job containers at a resolver that knows the name (config.toml, or "dns" in /etc/docker/daemon.json on the host).',
        snippet: '[runners.docker]\n  dns = ["<IP of your internal DNS server>"]',
      }
}

export function retryFix(): Fix {
  return {
    text: 'Only as mitigation for a transient failure: let GitLab retry the job.',
    snippet: 'retry:\n  max: 2\n  when: [runner_system_failure, script_failure]',
  }
}

export function proxyEnvFix(): Fix {
  return {
    text: 'Pass the proxy to every job (both cases; NO_PROXY must list GitLab, the registry, the dind alias "docker" and cluster CIDRs).',
    snippet:
      '[[runners]]\n  environment = [\n    "HTTP_PROXY=http://<proxy>:<port>", "HTTPS_PROXY=http://<proxy>:<port>",\n' +
      '    "http_proxy=http://<proxy>:<port>", "https_proxy=http://<proxy>:<port>",\n' +
      '    "NO_PROXY=localhost,127.0.0.1,docker,<gitlab host>,<registry host>", "no_proxy=localhost,127.0.0.1,docker,<gitlab host>,<registry host>"\n  ]',
  }
}

export function pullPolicyFix(image: string, family?: Family): Fix {
  return {
    text: `Use images already present on the node instead of pulling ${image} every time (allowed_pull_policies permitting): "if-not-present", or "never" for air-gapped hosts with preloaded images.`,
    snippet: `[runners.${family === 'kubernetes' ? 'kubernetes' : 'docker'}]\n  pull_policy = ["if-not-present"]   # or ["never"]`,
  }
}

export function mirrorFix(image: string): Fix {
  return {
    text: 'Pull through a cache or mirror you can reach: the GitLab Dependency Proxy, a registry mirror, or a copy of the image in your GitLab registry.',
    snippet: `image: \${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/${image.replace(/^docker\.io\/(library\/)?/, '')}`,
  }
}

/** Image names in kubelet/docker messages: `"busybox:latest"`, `image alpine:3.19 ...`. */
export function imageName(text: string): string | undefined {
  // People redact pasted logs with placeholders (registry.example.com/<IMAGE_PATH>, <registry>/app): keep them in the name.
  const m = /(?:image|pulling image|pull image|for image|manifest for|pull access denied for|reference)\s+"?([a-z0-9<][\w./:@<>-]*[\w>])"?/i.exec(text) ??
    /"((?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9][\w./-]*(?::[\w.-]+|@sha256:[0-9a-f]+))"/.exec(text)
  return m?.[1]?.replace(/,$/, '')
}

/** The registry host of an image reference (docker.io when the first part is not a host). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? ''
  return image.includes('/') && /[.:]|^localhost$/.test(first) ? first : 'docker.io'
}
