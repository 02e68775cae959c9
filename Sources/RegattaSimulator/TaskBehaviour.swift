// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// What a simulated task does once launched, after Nomad's mock driver (`run_for`, `exit_code`, `start_error`).
///
/// The simulator's configuration sets the default for every task. A task can override it through its
/// command's environment, so one app can behave differently from another:
/// - `REGATTA_SIM_RUN_FOR`: a Mesos duration (`5secs`, `200ms`) after which the task ends on its own;
///   `forever` runs until killed.
/// - `REGATTA_SIM_FAILURE_PROBABILITY`: a number in `0...1` (see ``failureProbability``).
/// - `REGATTA_SIM_CRASH_ON_START_PROBABILITY`: a number in `0...1` (see ``crashOnStartProbability``).
/// - `REGATTA_SIM_START_DELAY`: a Mesos duration (see ``startDelay``).
public struct TaskBehaviour: Hashable, Sendable {
    /// How long a task runs before it ends on its own; `nil` runs it until it is killed. Defaults to `nil`.
    public var runFor: Duration?
    /// The chance (`0...1`) that a task that ends on its own ends `TASK_FAILED` ("Command exited with status 1")
    /// rather than `TASK_FINISHED`. Defaults to `0`.
    public var failureProbability: Double
    /// The chance (`0...1`) that a task fails to start: `TASK_FAILED` with `REASON_CONTAINER_LAUNCH_FAILED`
    /// right after `TASK_STARTING`, as when the real agent cannot spawn the process. Defaults to `0`.
    public var crashOnStartProbability: Double
    /// Time between `TASK_STARTING` and `TASK_RUNNING`. Defaults to zero.
    public var startDelay: Duration
    /// Time between a KILL (after `TASK_KILLING`, when the framework understands it) and `TASK_KILLED`.
    /// Defaults to zero.
    public var killDelay: Duration
    /// Whether `TASK_STARTING` is reported before `TASK_RUNNING`, as the real agent does. Defaults to `true`.
    public var reportStarting: Bool

    /// Creates a behaviour; the defaults run every task until it is killed.
    public init(
        runFor: Duration? = nil,
        failureProbability: Double = 0,
        crashOnStartProbability: Double = 0,
        startDelay: Duration = .zero,
        killDelay: Duration = .zero,
        reportStarting: Bool = true
    ) {
        self.runFor = runFor
        self.failureProbability = failureProbability
        self.crashOnStartProbability = crashOnStartProbability
        self.startDelay = startDelay
        self.killDelay = killDelay
        self.reportStarting = reportStarting
    }

    /// Environment variable names that override the behaviour of one task.
    public enum EnvironmentKey {
        public static let runFor = "REGATTA_SIM_RUN_FOR"
        public static let failureProbability = "REGATTA_SIM_FAILURE_PROBABILITY"
        public static let crashOnStartProbability = "REGATTA_SIM_CRASH_ON_START_PROBABILITY"
        public static let startDelay = "REGATTA_SIM_START_DELAY"
    }

    /// This behaviour with the overrides a task's command environment carries; malformed values are ignored.
    public func overridden(by command: CommandInfo?) -> TaskBehaviour {
        guard let variables = command?.environment?.variables, !variables.isEmpty else { return self }
        var behaviour = self
        for variable in variables {
            guard let value = variable.value else { continue }
            switch variable.name {
            case EnvironmentKey.runFor:
                if value.lowercased() == "forever" {
                    behaviour.runFor = nil
                } else if let duration = try? MesosDuration.parse(value) {
                    behaviour.runFor = duration
                }
            case EnvironmentKey.failureProbability:
                if let number = Double(value), (0...1).contains(number) { behaviour.failureProbability = number }
            case EnvironmentKey.crashOnStartProbability:
                if let number = Double(value), (0...1).contains(number) { behaviour.crashOnStartProbability = number }
            case EnvironmentKey.startDelay:
                if let duration = try? MesosDuration.parse(value) { behaviour.startDelay = duration }
            default:
                continue
            }
        }
        return behaviour
    }
}
