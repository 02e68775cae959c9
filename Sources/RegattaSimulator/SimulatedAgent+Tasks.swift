// SPDX-License-Identifier: Apache-2.0
import RegattaCore

extension SimulatedAgent {
    /// Handles a LAUNCH: reports `TASK_STARTING`, then per the task's behaviour fails to start, or reports
    /// `TASK_RUNNING` (at once or after the start delay) and schedules its end.
    ///
    /// A LAUNCH of a task that still runs is a re-delivery and is ignored, as the real agent does.
    func launch(_ launch: AgentMessage.Launch) -> [Job] {
        let key = SimulatedTaskKey(frameworkID: launch.frameworkId, taskID: launch.task.taskId)
        let behaviour = self.configuration.taskBehaviour.overridden(by: launch.task.command)
        self.counters.update { $0.launches += 1 }
        return self.state.withLock { state -> [Job] in
            if let frameworkInfo = launch.frameworkInfo { state.frameworks[launch.frameworkId] = frameworkInfo }
            if let existing = state.tasks[key], !existing.state.isTerminal {
                self.logger.debug("Ignoring a LAUNCH of a running task", metadata: [LogKey.taskID: "\(key.taskID)"])
                return []
            }
            state.nextGeneration += 1
            let generation = state.nextGeneration
            state.tasks[key] = SimulatedTask(
                info: launch.task,
                frameworkID: launch.frameworkId,
                state: .staging,
                behaviour: behaviour,
                generation: generation
            )
            self.counters.update { $0.liveTasks += 1 }
            var jobs: [Job] = []
            let crashes =
                behaviour.crashOnStartProbability > 0 && state.random.unit() < behaviour.crashOnStartProbability
            if behaviour.reportStarting {
                jobs += [state.emit(key, .starting, source: .executor, counters: self.counters)].compactMap { $0 }
            } else {
                state.tasks[key]?.state = .starting
            }
            if crashes {
                jobs += [
                    state.emit(
                        key,
                        .failed,
                        message: "Failed to launch the task: simulated start failure",
                        reason: "REASON_CONTAINER_LAUNCH_FAILED",
                        source: .agent,
                        counters: self.counters
                    )
                ].compactMap { $0 }
            } else if behaviour.startDelay > .zero {
                jobs.append(.after(behaviour.startDelay, key, generation: generation, .started))
            } else {
                jobs += self.start(key, generation: generation, behaviour: behaviour, state: &state)
            }
            return jobs
        }
    }

    private func start(_ key: SimulatedTaskKey, generation: Int, behaviour: TaskBehaviour, state: inout State) -> [Job]
    {
        var jobs = [state.emit(key, .running, source: .executor, counters: self.counters)].compactMap { $0 }
        if let runFor = behaviour.runFor {
            jobs.append(.after(runFor, key, generation: generation, .ended))
        }
        return jobs
    }

    /// Handles a KILL: `TASK_KILLING` first when the framework understands it, then `TASK_KILLED`. A KILL of
    /// an unknown task is answered `TASK_LOST`, one of a finished task is ignored, as the real agent does.
    func kill(_ frameworkID: FrameworkID, _ taskID: TaskID) -> [Job] {
        let key = SimulatedTaskKey(frameworkID: frameworkID, taskID: taskID)
        self.counters.update { $0.kills += 1 }
        return self.state.withLock { state -> [Job] in
            guard let task = state.tasks[key] else {
                return [
                    state.emit(
                        key,
                        .lost,
                        message: "Task is unknown to the agent",
                        reason: "REASON_TASK_UNKNOWN",
                        source: .agent,
                        counters: self.counters
                    )
                ].compactMap { $0 }
            }
            if task.state.isTerminal || task.killRequested { return [] }
            state.tasks[key]?.killRequested = true
            if task.state == .staging || task.state == .starting {
                return [
                    state.emit(
                        key,
                        .killed,
                        message: "Task killed before it started",
                        source: .agent,
                        counters: self.counters
                    )
                ].compactMap { $0 }
            }
            var jobs: [Job] = []
            if state.frameworks[frameworkID]?.has(capability: "TASK_KILLING_STATE") ?? false {
                jobs += [state.emit(key, .killing, source: .executor, counters: self.counters)].compactMap { $0 }
            }
            if task.behaviour.killDelay > .zero {
                jobs.append(.after(task.behaviour.killDelay, key, generation: task.generation, .killed))
            } else {
                jobs += [
                    state.emit(
                        key,
                        .killed,
                        message: "Command terminated with signal SIGTERM",
                        source: .executor,
                        counters: self.counters
                    )
                ].compactMap { $0 }
            }
            return jobs
        }
    }

    /// Handles SHUTDOWN_FRAMEWORK: kills every live task of the framework.
    func shutdownFramework(_ frameworkID: FrameworkID) -> [Job] {
        let taskIDs = self.state.withLock { state in
            state.tasks.filter { $0.key.frameworkID == frameworkID && !$0.value.state.isTerminal }.map(\.key.taskID)
        }
        return taskIDs.sorted().flatMap { self.kill(frameworkID, $0) }
    }

    /// A timed step of a task: it started, ended on its own, or its kill completed. Steps of an earlier run
    /// of the same task id, or of a task that already ended, are ignored.
    func progress(_ key: SimulatedTaskKey, generation: Int, event: TaskEvent) -> [Job] {
        self.state.withLock { state -> [Job] in
            guard let task = state.tasks[key], task.generation == generation, !task.state.isTerminal else { return [] }
            switch event {
            case .started:
                guard task.state == .starting || task.state == .staging else { return [] }
                return self.start(key, generation: generation, behaviour: task.behaviour, state: &state)
            case .ended:
                let fails =
                    task.behaviour.failureProbability > 0
                    && state.random.unit() < task.behaviour.failureProbability
                let job =
                    fails
                    ? state.emit(
                        key,
                        .failed,
                        message: "Command exited with status 1",
                        reason: "REASON_COMMAND_EXECUTOR_FAILED",
                        source: .executor,
                        counters: self.counters
                    )
                    : state.emit(
                        key,
                        .finished,
                        message: "Command exited with status 0",
                        source: .executor,
                        counters: self.counters
                    )
                return [job].compactMap { $0 }
            case .killed:
                return [
                    state.emit(
                        key,
                        .killed,
                        message: "Command terminated with signal SIGTERM",
                        source: .executor,
                        counters: self.counters
                    )
                ].compactMap { $0 }
            }
        }
    }
}
