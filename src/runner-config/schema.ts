/**
 * gitlab-runner's config.toml keys (common/config.go) and the type each must have. glrun uses
 * some of them; the rest are accepted so that a real runner's config loads without noise, and
 * anything else is an unknown key (gitlab-runner ignores those silently; glrun warns).
 * `any` keys are accepted with any value: glrun does not use them and their shapes are rich.
 */
export type KeyType = 'string' | 'int' | 'number' | 'bool' | 'strings' | 'policy' | 'any' | 'bools' | { table: Schema } | { tables: Schema }
export type Schema = Record<string, KeyType>

const keys = (type: KeyType, names: string): Schema => Object.fromEntries(names.trim().split(/\s+/).map((n) => [n, type]))

const DOCKER_SERVICE: Schema = { ...keys('string', 'name alias suspend_data_path'), ...keys('strings', 'command entrypoint environment') }

export const DOCKER: Schema = {
  ...keys('string', `host tls_cert_path hostname image runtime memory memory_swap memory_reservation cpus cpuset_cpus cpuset_mems
    cgroup_parent user userns_mode gpus volume_driver cache_dir network_mode pid_mode ipcmode mac_address service_memory
    service_memory_swap service_memory_reservation service_cpus service_cpuset_cpus service_cgroup_parent service_gpus
    isolation helper_image helper_image_flavor`),
  ...keys('bool', `tls_verify privileged services_privileged disable_entrypoint_overwrite oom_kill_disable disable_cache volume_keep enable_ipv6`),
  ...keys('int', 'cpu_shares oom_score_adjust services_limit service_cpu_shares wait_for_services_timeout shm_size network_mtu'),
  ...keys('strings', `dns dns_search allowed_privileged_images allowed_privileged_services allowed_users group_add cap_add cap_drop
    security_opt services_security_opt devices device_cgroup_rules volumes extra_hosts volumes_from links allowed_images allowed_services`),
  ...keys('policy', 'pull_policy allowed_pull_policies'),
  ...keys('any', 'services_devices volume_driver_ops tmpfs services_tmpfs sysctls container_labels ulimit log_options'),
  services: { tables: DOCKER_SERVICE },
}

export const KUBERNETES: Schema = {
  ...keys('string', `host context cert_file key_file ca_file bearer_token namespace namespace_overwrite_allowed service_account
    service_account_overwrite_allowed node_selector_overwrite_allowed node_tolerations_overwrite_allowed scheduler_name
    priority_class_name runtime_class_name dns_policy image helper_image helper_image_flavor cpu_limit cpu_request memory_limit
    memory_request ephemeral_storage_limit ephemeral_storage_request service_cpu_limit service_cpu_request service_memory_limit
    service_memory_request helper_cpu_limit helper_cpu_request helper_memory_limit helper_memory_request
    cpu_limit_overwrite_max_allowed cpu_request_overwrite_max_allowed memory_limit_overwrite_max_allowed
    memory_request_overwrite_max_allowed pod_labels_overwrite_allowed pod_annotations_overwrite_allowed logs_base_dir scripts_base_dir
    helper_cpu_limit_overwrite_max_allowed helper_cpu_request_overwrite_max_allowed helper_memory_limit_overwrite_max_allowed
    helper_memory_request_overwrite_max_allowed helper_ephemeral_storage_limit_overwrite_max_allowed
    helper_ephemeral_storage_request_overwrite_max_allowed service_cpu_limit_overwrite_max_allowed
    service_cpu_request_overwrite_max_allowed service_memory_limit_overwrite_max_allowed service_memory_request_overwrite_max_allowed
    service_ephemeral_storage_limit_overwrite_max_allowed service_ephemeral_storage_request_overwrite_max_allowed
    helper_ephemeral_storage_limit helper_ephemeral_storage_request service_ephemeral_storage_limit service_ephemeral_storage_request
    retry_backoff_max cleanup_resources_timeout ephemeral_storage_limit_overwrite_max_allowed ephemeral_storage_request_overwrite_max_allowed`),
  ...keys('bool', `bearer_token_overwrite_allowed namespace_per_job automount_service_account_token helper_image_autoset_arch_and_os
    use_service_account_image_pull_secrets privileged allow_privilege_escalation print_pod_warning_events`),
  ...keys('int', `poll_interval poll_timeout pod_termination_grace_period_seconds cleanup_grace_period_seconds
    resource_availability_check_max_attempts retry_limit`),
  ...keys('strings', 'image_pull_secrets allowed_images allowed_services allowed_users allowed_groups cap_add cap_drop'),
  ...keys('policy', 'pull_policy allowed_pull_policies'),
  ...keys('any', `node_selector node_tolerations affinity dns_config pod_security_context build_container_security_context
    helper_container_security_context service_container_security_context init_permissions_container_security_context pod_labels
    pod_annotations volumes services container_lifecycle pod_spec pod_disruption_budget autoscaler retry_limits`),
  host_aliases: { tables: { ip: 'string', hostnames: 'strings' } },
}

export const RUNNER: Schema = {
  ...keys('string', `name url token tls-ca-file tls-cert-file tls-key-file executor shell builds_dir
    cache_dir clone_url pre_get_sources_script post_get_sources_script pre_build_script post_build_script pre_clone_script
    post_clone_script step_runner_image slot_cgroup_template`),
  ...keys('int', 'id limit output_limit request_concurrency unhealthy_requests_limit job_status_final_update_retry_limit'),
  ...keys('bool', 'strict_check_interval debug_trace_disabled safe_directory_checkout clean_git_config proxy_exec use_slot_cgroups'),
  environment: 'strings',
  ...keys('any', 'labels token_obtained_at token_expires_at unhealthy_interval prepare_timeout get_sources_timeout custom_build_dir artifact referees monitoring cache custom ssh machine autoscaler instance parallels virtualbox'),
  feature_flags: 'bools',
  docker: { table: DOCKER },
  kubernetes: { table: KUBERNETES },
}

export const GLOBAL: Schema = {
  ...keys('int', 'concurrent check_interval shutdown_timeout'),
  ...keys('string', 'log_level log_format listen_address sentry_dsn user connection_max_age'),
  ...keys('any', 'labels experimental machine session_server'),
  runners: { tables: RUNNER },
}

export const EXECUTORS = ['shell', 'docker', 'docker-windows', 'docker+machine', 'docker-autoscaler', 'kubernetes', 'custom', 'ssh', 'parallels', 'virtualbox', 'instance']
export const PULL_POLICIES = ['always', 'if-not-present', 'never']
export const DNS_POLICIES = ['none', 'default', 'cluster-first', 'cluster-first-with-host-net']
