// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Checks of the numbers a framework sends where they become times: refused with a message naming the field and the
/// accepted range, so that no value from the wire reaches a conversion that could trap (the conversions saturate as
/// well, see ``Saturating``).
enum WireValidation {
    /// Checks `SUBSCRIBE`'s framework info.
    static func check(_ info: FrameworkInfo) throws {
        if let timeout = info.failoverTimeout,
            let problem = WireNumber.checkSeconds(timeout, field: "subscribe.framework_info.failover_timeout")
        {
            throw MasterError(.badRequest, problem)
        }
    }

    /// Checks the numbers of a non-SUBSCRIBE call (refusal filters, kill policies).
    static func check(_ call: SchedulerCall) throws {
        if let refuse = call.accept?.filters?.refuseSeconds,
            let problem = WireNumber.checkSeconds(refuse, field: "accept.filters.refuse_seconds")
        {
            throw MasterError(.badRequest, problem)
        }
        if let refuse = call.decline?.filters?.refuseSeconds,
            let problem = WireNumber.checkSeconds(refuse, field: "decline.filters.refuse_seconds")
        {
            throw MasterError(.badRequest, problem)
        }
        if let grace = call.kill?.killPolicy?.gracePeriod,
            let problem = WireNumber.checkNanoseconds(
                grace.nanoseconds,
                field: "kill.kill_policy.grace_period.nanoseconds"
            )
        {
            throw MasterError(.badRequest, problem)
        }
    }

    /// Checks the times a task carries; a task that fails is answered with `TASK_ERROR` and this message.
    static func problem(in task: TaskInfo) -> String? {
        if let grace = task.killPolicy?.gracePeriod,
            let problem = WireNumber.checkNanoseconds(grace.nanoseconds, field: "kill_policy.grace_period.nanoseconds")
        {
            return problem
        }
        if let check = task.healthCheck {
            let fields: [(String, Double?)] = [
                ("health_check.delay_seconds", check.delaySeconds),
                ("health_check.interval_seconds", check.intervalSeconds),
                ("health_check.timeout_seconds", check.timeoutSeconds),
                ("health_check.grace_period_seconds", check.gracePeriodSeconds),
            ]
            for case (let field, let value?) in fields {
                if let problem = WireNumber.checkSeconds(value, field: field) { return problem }
            }
        }
        return nil
    }
}
