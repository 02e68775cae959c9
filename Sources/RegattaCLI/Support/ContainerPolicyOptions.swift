// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import RegattaCore

/// `--allowed_host_paths` and `--allow_privileged`: what tasks may do to their hosts, taken by the agent (which
/// enforces it), the scheduler (whose `/v2/apps` refuses what the agents would) and `regatta dev` (both).
struct ContainerPolicyOptions: ParsableArguments {
    @Option(
        name: .customLong("allowed_host_paths"),
        help: "Host directories tasks may mount, comma-separated absolute paths (default: none; sandbox only)."
    )
    var allowedHostPaths: String?
    @Flag(
        name: .customLong("allow_privileged"),
        help: "Allow privileged containers and Docker parameters that reach the host (cap-add, device, pid, ...)."
    )
    var allowPrivileged = false

    /// The policy from the flags, else `REGATTA_`/`MESOS_` environment variables.
    /// - Throws: a one-line `ValidationError` naming the flag.
    func policy() throws -> ContainerPolicy {
        try FlagEnvironment.containerPolicy(
            allowedHostPaths: self.allowedHostPaths,
            allowPrivileged: self.allowPrivileged
        )
    }
}
