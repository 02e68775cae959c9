// SPDX-License-Identifier: Apache-2.0
import Glibc
import RegattaCore

/// A UNIX account on the agent's host that a command task runs as.
public struct TaskUser: Sendable, Hashable, CustomStringConvertible {
    /// The account's name (what `initgroups` looks up the supplementary groups of).
    public var name: String
    /// Its user id.
    public var uid: UInt32
    /// Its primary group id.
    public var gid: UInt32
    /// Its home directory (the task's `HOME`).
    public var home: String

    /// Describes an account.
    public init(name: String, uid: UInt32, gid: UInt32, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }

    public var description: String { "\(self.name) (uid \(self.uid), gid \(self.gid))" }
}

/// The host's accounts: the seam between the agent's decisions and `/etc/passwd` (or NSS).
protocol UserDatabase: Sendable {
    /// The account named `name`, or `nil` if there is none.
    func user(named name: String) -> TaskUser?
    /// The agent's own effective user id.
    var agentUID: UInt32 { get }
    /// The name of `uid`, for messages (`uid N` when it has none).
    func name(of uid: UInt32) -> String
}

/// The real accounts: `getpwnam_r`/`getpwuid_r` and `geteuid`.
struct SystemUserDatabase: UserDatabase {
    func user(named name: String) -> TaskUser? {
        Self.lookup { entry, buffer, size, result in getpwnam_r(name, entry, buffer, size, result) }
    }

    var agentUID: UInt32 { geteuid() }

    func name(of uid: UInt32) -> String {
        Self.lookup { entry, buffer, size, result in getpwuid_r(uid, entry, buffer, size, result) }?.name
            ?? "uid \(uid)"
    }

    private static func lookup(
        _ call: (
            UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int,
            UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>
        ) -> Int32
    ) -> TaskUser? {
        var size = 4096
        while size <= 1 << 20 {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let status = call(&entry, buffer, size, &result)
            if status == ERANGE {
                size *= 4
                continue
            }
            guard status == 0, result != nil, let name = entry.pw_name else { return nil }
            return TaskUser(
                name: String(cString: name),
                uid: entry.pw_uid,
                gid: entry.pw_gid,
                home: entry.pw_dir.map { String(cString: $0) } ?? "/"
            )
        }
        return nil
    }
}

/// Decides which user a task runs as, as Mesos's agent does with `--switch_user`.
enum TaskUserDecision: Equatable, Sendable {
    /// Run as the agent's own user: no switch (`--switch_user=false`, no user named, or the agent's own user).
    case agentUser
    /// Switch a command task to this account.
    case switchTo(TaskUser)
    /// Run a Docker container as this user (resolved in the image, not on the host).
    case container(String)
    /// Refuse the task: `TASK_FAILED` with this message.
    case refuse(String)

    /// The user a task asks for: `CommandInfo.user`, else `FrameworkInfo.user`; empty names count as none.
    static func requestedUser(_ task: TaskInfo, frameworkInfo: FrameworkInfo?) -> String? {
        if let user = task.command?.user, !user.isEmpty { return user }
        if let user = frameworkInfo?.user, !user.isEmpty { return user }
        return nil
    }

    /// Decides for `task`.
    ///
    /// - Command tasks switch to their user when `switchUser` is on: the account must exist on this host, and an
    ///   agent that is not root may only run tasks as itself.
    /// - Docker tasks run as `CommandInfo.user` when it is set (the image resolves it; `FrameworkInfo.user` is not
    ///   forced on an image, whose own `USER` stays in effect); the `user` Docker parameter does the same.
    static func decide(
        _ task: TaskInfo,
        frameworkInfo: FrameworkInfo?,
        switchUser: Bool,
        users: any UserDatabase,
        hostname: String
    ) -> TaskUserDecision {
        guard switchUser else { return .agentUser }
        if task.container?.type == .docker {
            guard let user = task.command?.user, !user.isEmpty else { return .agentUser }
            if let parameter = task.container?.docker?.parameters?.first(where: { ["user", "u"].contains($0.key) }),
                parameter.value != user
            {
                return .refuse(
                    "Task '\(task.taskId)' sets user '\(user)' and the Docker parameter user='\(parameter.value)'; "
                        + "give only one of them."
                )
            }
            return .container(user)
        }
        guard let name = Self.requestedUser(task, frameworkInfo: frameworkInfo) else { return .agentUser }
        guard let user = users.user(named: name) else {
            return .refuse(
                "User '\(name)' does not exist on agent \(hostname); create it there, set the task's user to one "
                    + "that exists, or start the agent with --switch_user=false to run tasks as the agent's user."
            )
        }
        let agentUID = users.agentUID
        if user.uid == agentUID { return .agentUser }
        guard agentUID == 0 else {
            let agent = users.name(of: agentUID)
            return .refuse(
                "The agent on \(hostname) runs as '\(agent)', not root, so it cannot run task '\(task.taskId)' as "
                    + "'\(name)'; run the agent as root, or start it with --switch_user=false to run every task as "
                    + "'\(agent)'."
            )
        }
        return .switchTo(user)
    }
}
