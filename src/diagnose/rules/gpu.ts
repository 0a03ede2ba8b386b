import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * gpu_unavailable_in_job (proposed by the corpus's twenty-fourth pass): a job meant for a GPU finds
 * none — the runner does not hand the GPU to its containers (no `gpus` in [runners.docker], no NVIDIA
 * Container Toolkit on the host, no GPU resource on the pod), the job landed on a runner without one,
 * or the host's driver is broken. Wordings: the Docker daemon's device request with no driver for it
 * (daemon/devices.go), nvidia-smi's own, PyTorch's (c10/cuda), and nvidia-smi missing from the job.
 */

const NO_DRIVER = /could not select device driver "" with capabilities: \[\[gpu\]\]|NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver|Found no NVIDIA driver on your system|RuntimeError: No CUDA GPUs are available|CUDA driver initialization failed, you might not have a CUDA gpu/
// nvidia-smi comes with the driver, mounted into containers by the NVIDIA runtime: missing means no GPU was handed in.
const NO_SMI = /^(?:(?:\/usr)?\/bin\/)?(?:ba|da|a)?sh: (?:line \d+: |\d+: )?nvidia-smi: (?:command )?not found$|^nvidia-smi: command not found$/

function gpu(s: Scan): Diagnosis[] {
  const hit = s.last(NO_DRIVER) ?? s.last(NO_SMI)
  if (!hit || s.wentPast(hit.line)) return []
  const daemon = /could not select device driver/.test(hit.line.text)
  const runner: Fix = s.family === 'kubernetes'
    ? { text: 'Kubernetes executor: request a GPU for the build container and schedule it on GPU nodes (the NVIDIA device plugin must run there).', snippet: '[runners.kubernetes]\n  node_selector = { "nvidia.com/gpu.present" = "true" }\n[[runners.kubernetes.pod_spec]]\n  name = "gpu"\n  patch_type = "strategic"\n  patch = \'\'\'\n    containers:\n      - name: build\n        resources:\n          limits:\n            nvidia.com/gpu: 1\n  \'\'\'' }
    : s.family === 'shell'
      ? { text: 'Shell executor: the job sees the host\'s driver directly; install or repair the NVIDIA driver on the runner host (nvidia-smi must work there as the runner user).', snippet: 'sudo -u gitlab-runner nvidia-smi' }
      : { text: 'Docker executor: hand the GPUs to job containers, with the NVIDIA Container Toolkit installed and registered on the runner host.', snippet: '[runners.docker]\n  gpus = "all"\n# on the host: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker' }
  return [diagnosis('gpu_unavailable_in_job', daemon ? 'The runner\'s Docker cannot give the job a GPU' : 'The job has no usable GPU',
    daemon
      ? `"${hit.line.text.trim().slice(0, 160)}": the job asked for GPUs, and the Docker daemon on the runner host has no device driver for them: the NVIDIA Container Toolkit is not installed or not registered with Docker.`
      : `"${hit.line.text.trim().slice(0, 160)}": the job expects an NVIDIA GPU, but its ${s.family === 'shell' ? 'host' : 'container'} has none it can use — the runner does not pass the GPU in, the job ran on a runner without one, or the host's driver is not working.`,
    evidence(s.commandAt(hit.line.n), hit), [
      runner,
      { text: 'Route GPU jobs to GPU runners with a tag that only those runners carry.', snippet: 'train:\n  tags: [gpu]' },
      { text: 'Check the driver on the runner host first.', snippet: 'nvidia-smi\ndocker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi' },
    ], 0.9)]
}

export const gpuRule: Rule = {
  id: 'gpu',
  categories: ['gpu_unavailable_in_job'],
  match(ev) {
    return gpu(Scan.of(ev))
  },
}
