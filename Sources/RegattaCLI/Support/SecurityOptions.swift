// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// Security flags every daemon shares (`docs/security.md`).
struct SecurityOptions: ParsableArguments {
    @Flag(
        name: .customLong("insecure_allow_unauthenticated"),
        help:
            "Start without authentication even on a non-loopback address. Anyone who reaches the daemon can then run commands on the cluster; use only on a network you trust."
    )
    var insecureAllowUnauthenticated = false

    /// `--insecure_allow_unauthenticated` from the command line or the environment.
    ///
    /// - Throws: a one-line `ValidationError` for an environment value that is not a boolean.
    func allowsUnauthenticated() throws -> Bool {
        try FlagEnvironment.bool(self.insecureAllowUnauthenticated, "insecure_allow_unauthenticated")
    }
}
