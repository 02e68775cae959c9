// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Synchronization

/// The rendered v0 JSON of each task (`/master/state`, `/master/tasks`), kept across requests.
///
/// A running task's JSON changes only when it gets a new status; at 100,000 tasks, rendering every task for every
/// request was most of `/master/state`. Each entry carries a ``Fingerprint`` of what the rendering depends on that can
/// change (state, the statuses, the framework's role), so a stale entry is never written: a request renders anew
/// what changed and merges it back at its end.
///
/// Memory: about the size of the rendered tasks (≈ 500 bytes a task); entries of tasks that are gone are dropped
/// once they make up a fifth of the cache.
final class TaskJSONCache: Sendable {
    /// What a task's rendering depends on, besides its immutable fields (ids, name, resources, labels).
    struct Fingerprint: Hashable, Sendable {
        var state: TaskState
        var statusCount: Int
        var lastStatusState: TaskState?
        var lastTimestamp: Double?
        var lastHealthy: Bool?
        var role: String
    }

    struct Entry: Sendable {
        var fingerprint: Fingerprint
        var bytes: [UInt8]
    }

    private let entries = Mutex<[TaskKey: Entry]>([:])

    /// One framework's `tasks` or `unreachable_tasks` array.
    struct ListKey: Hashable, Sendable {
        var framework: FrameworkID
        var unreachable: Bool
    }

    /// A whole task array as written for ``MasterState/tasksVersion`` and the framework's role: while no task
    /// changes (a cluster at rest, or readers polling faster than tasks change) it is written as it is, without
    /// sorting, looking up or fingerprinting each task.
    struct ListEntry: Sendable {
        var tasksVersion: UInt64
        var role: String
        var bytes: [UInt8]
    }

    private let lists = Mutex<[ListKey: ListEntry]>([:])

    /// How many task arrays are cached.
    var listCount: Int { self.lists.withLock { $0.count } }

    /// The array cached for `key` if it was written for `tasksVersion` and `role`.
    func list(_ key: ListKey, tasksVersion: UInt64, role: String) -> [UInt8]? {
        self.lists.withLock { lists in
            guard let entry = lists[key], entry.tasksVersion == tasksVersion, entry.role == role else { return nil }
            return entry.bytes
        }
    }

    /// Keeps an array just written, replacing the framework's older one; arrays of frameworks not in `frameworks`
    /// are dropped.
    func storeList(_ key: ListKey, _ entry: ListEntry, frameworks: some Collection<FrameworkID>) {
        self.lists.withLock { lists in
            lists[key] = entry
            if lists.count > 2 * frameworks.count {
                let live = Set(frameworks)
                lists = lists.filter { live.contains($0.key.framework) }
            }
        }
    }

    init() {}

    /// How many tasks are cached.
    var count: Int { self.entries.withLock { $0.count } }

    /// A request's use of the cache: reads a snapshot without locking, collects what it rendered.
    final class Session {
        let cache: TaskJSONCache
        let known: [TaskKey: Entry]
        var rendered: [TaskKey: Entry] = [:]

        init(cache: TaskJSONCache) {
            self.cache = cache
            self.known = cache.entries.withLock { $0 }
        }

        /// The cached bytes of `key` if they were rendered for `fingerprint`.
        func bytes(_ key: TaskKey, _ fingerprint: Fingerprint) -> [UInt8]? {
            guard let entry = self.known[key], entry.fingerprint == fingerprint else { return nil }
            return entry.bytes
        }

        /// Records a fresh rendering.
        func store(_ key: TaskKey, _ fingerprint: Fingerprint, _ bytes: [UInt8]) {
            self.rendered[key] = Entry(fingerprint: fingerprint, bytes: bytes)
        }

        /// Merges the fresh renderings into the cache, dropping tasks that no longer exist when they are many.
        func commit(liveTasks: [TaskKey: MasterState.TaskRecord]) {
            guard !self.rendered.isEmpty else { return }
            let rendered = self.rendered
            self.rendered = [:]
            self.cache.entries.withLock { entries in
                entries.merge(rendered) { _, new in new }
                if entries.count > liveTasks.count + liveTasks.count / 4 + 1024 {
                    entries = entries.filter { liveTasks[$0.key] != nil }
                }
            }
        }
    }
}
