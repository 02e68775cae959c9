// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`): a master holds one socket per agent, a
/// simulator one per simulated agent.
public enum FileDescriptorLimit {
    /// The current soft and hard limits.
    public static func current() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        #if canImport(Glibc)
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        _ = getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to at least `needed` descriptors, up to the hard limit.
    ///
    /// - Returns: the soft limit in effect afterwards; smaller than `needed` when the hard limit is lower
    ///   (raise it with `ulimit -Hn` as root, or spread the agents over several processes).
    @discardableResult
    public static func raise(to needed: UInt64) -> UInt64 {
        let (soft, hard) = self.current()
        guard soft < needed else { return soft }
        var limit = rlimit()
        limit.rlim_cur = rlim_t(min(needed, hard))
        limit.rlim_max = rlim_t(hard)
        #if canImport(Glibc)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        _ = setrlimit(RLIMIT_NOFILE, &limit)
        #endif
        return self.current().soft
    }
}
