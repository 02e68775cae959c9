// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Offers: allocation rounds, offer answers (ACCEPT, DECLINE), filters, expiry and recovery of offers.
extension MasterState {
    /// Runs one allocation round: offers available resources to frameworks per the allocator.
    public mutating func allocate(now: Duration) -> [MasterAction] {
        self.expireFilters(now: now)
        if !self.frameworks.values.contains(where: { $0.isConnected && !$0.suppressed }) { return [] }
        var view = self.allocationView(now: now)
        self.allocator.allocate(&view)
        // The view recorded only offers of offerable agents to connected frameworks, within what each agent had
        // left in the round: they need no re-check here.
        var batches: [FrameworkID: [Offer]] = [:]
        self.offers.reserveCapacity(self.offers.count + view.decisions.count)
        // Records are read and changed in place through their dictionary indices (`inout` access, no copy): copying a
        // record out would retain every field, and a live copy would force a copy of the offer sets changed below
        // (quadratic in the offers of one framework).
        for decision in view.decisions {
            let frameworkID = view.frameworks[decision.framework].id
            let role = view.frameworks[decision.framework].role
            guard let agentIndex = self.agents.index(forKey: view.agents[decision.agent].id),
                let frameworkIndex = self.frameworks.index(forKey: frameworkID)
            else { continue }
            let resources = decision.resources
            self.nextOfferNumber += 1
            let offerID = OfferID("\(self.masterID)-O\(self.nextOfferNumber)")
            let offer = Self.access(&self.agents.values[agentIndex]) { agent in
                agent.offered += resources
                agent.offers.insert(offerID)
                return Offer(
                    id: offerID,
                    frameworkId: frameworkID,
                    agentId: agent.id,
                    hostname: agent.info.hostname,
                    resources: resources.allocated(to: role),
                    attributes: agent.info.attributes,
                    role: role
                )
            }
            Self.access(&self.frameworks.values[frameworkIndex]) { framework in
                framework.offers.insert(offerID)
                framework.offeredResources += resources
            }
            self.offers[offerID] = OfferRecord(offer: offer, resources: resources, createdAt: now)
            batches[frameworkID, default: []].append(offer)
        }
        var actions: [MasterAction] = batches.keys.sorted().map { .frameworkEvent($0, .offers(batches[$0]!)) }
        if let timeout = self.configuration.offerTimeout, !batches.isEmpty {
            actions.append(.wakeAt(now + timeout))
        }
        return actions
    }

    /// Runs `body` on a record in place: through `inout`, a dictionary value is neither copied nor retained.
    static func access<Record, Result>(_ record: inout Record, _ body: (inout Record) -> Result) -> Result {
        body(&record)
    }

    mutating func accept(
        _ accept: SchedulerCall.Accept,
        from id: FrameworkID,
        now: Duration
    )
        -> [MasterAction]
    {
        var actions: [MasterAction] = []
        let tasks = (accept.operations ?? []).flatMap { operation -> [TaskInfo] in
            switch operation.type {
            case "LAUNCH": operation.launch?.taskInfos ?? []
            case "LAUNCH_GROUP": operation.launchGroup?.taskGroup.tasks ?? []
            default: []
            }
        }
        // Validate the offers: known, owned by this framework, all on one agent.
        var offered = Resources()
        var agentID: AgentID?
        var offerError: String?
        for offerID in accept.offerIds {
            guard let record = self.offers[offerID], record.offer.frameworkId == id else {
                offerError = "Offer '\(offerID)' is no longer valid"
                continue
            }
            if let agentID, agentID != record.offer.agentId {
                offerError = "Aggregated offers must belong to one agent"
            }
            agentID = agentID ?? record.offer.agentId
        }
        if accept.offerIds.isEmpty { offerError = "No offers specified" }
        for offerID in accept.offerIds {
            if let record = self.removeOffer(offerID) {
                offered += record.resources
            }
        }
        if let offerError {
            for task in tasks {
                actions.append(
                    .frameworkEvent(
                        id,
                        .update(
                            self.masterStatus(
                                task.taskId,
                                .dropped,
                                agent: task.agentId,
                                reason: "REASON_INVALID_OFFERS",
                                message: offerError
                            )
                        )
                    )
                )
            }
            return actions
        }
        guard let agentID, var agent = self.agents[agentID] else { return actions }
        var remaining = offered
        for task in tasks {
            if let problem = self.validate(task, agent: agentID, remaining: remaining, framework: id) {
                actions.append(
                    .frameworkEvent(
                        id,
                        .update(
                            self.masterStatus(
                                task.taskId,
                                .error,
                                agent: agentID,
                                reason: "REASON_TASK_INVALID",
                                message: problem
                            )
                        )
                    )
                )
                continue
            }
            let user = self.user(of: task, framework: id)
            if !self.isAuthorized(self.frameworks[id]?.principal, .runTasks, on: Self.subject(user)) {
                actions.append(
                    .frameworkEvent(
                        id,
                        .update(
                            self.masterStatus(
                                task.taskId,
                                .error,
                                agent: agentID,
                                reason: "REASON_TASK_UNAUTHORIZED",
                                message: "Not authorized to launch as user '\(user ?? "")': the 'run_tasks' ACL "
                                    + "of --acls does not allow \(Self.callerPhrase(self.frameworks[id]?.principal)) "
                                    + "to run tasks as this user"
                            )
                        )
                    )
                )
                continue
            }
            remaining -= task.resources
            let key = TaskKey(id, task.taskId)
            let status = self.masterStatus(task.taskId, .staging, agent: agentID, reason: nil, message: nil)
            self.tasks[key] = TaskRecord(
                info: task,
                frameworkID: id,
                agentID: agentID,
                state: .staging,
                statuses: [status],
                latestStatus: status
            )
            agent.used += task.resources
            agent.tasks.insert(key)
            self.frameworks[id]?.tasks.insert(task.taskId)
            self.frameworks[id]?.used += task.resources
            actions.append(
                .agentMessage(
                    agentID,
                    .launch(.init(frameworkId: id, frameworkInfo: self.frameworks[id]?.info, task: task))
                )
            )
        }
        self.agents[agentID] = agent
        // Unused resources are declined, with the framework's filter.
        let refuse = min(accept.filters?.refuseSeconds ?? self.configuration.defaultRefuseSeconds, 365 * 86400)
        if !remaining.isEmpty, refuse > 0 {
            self.frameworks[id]?.filters[agentID] = now + Saturating.duration(seconds: refuse)
        }
        return actions
    }

    func validate(_ task: TaskInfo, agent: AgentID, remaining: Resources, framework: FrameworkID) -> String? {
        if task.taskId.value.isEmpty { return "Task ID must not be empty" }
        if task.taskId.value.contains("/") || task.taskId.value.contains(where: \.isWhitespace) {
            return "Task ID '\(task.taskId)' must not contain '/' or whitespace"
        }
        if let existing = self.tasks[TaskKey(framework, task.taskId)], !existing.state.isTerminal {
            return "Task ID '\(task.taskId)' is already in use by a non-terminal task"
        }
        if task.agentId != agent {
            return "Task uses agent '\(task.agentId)' but the offer is for agent '\(agent)'"
        }
        if task.executor != nil { return "Custom executors are not supported; use a command or a container" }
        if task.command == nil && task.container == nil {
            return "Task needs a 'command' or a 'container'"
        }
        if task.resources.isEmpty { return "Task uses no resources" }
        if let problem = WireValidation.problem(in: task) { return problem }
        if !remaining.contains(task.resources) {
            return "Task uses more resources (\(task.resources)) than offered and not yet used (\(remaining))"
        }
        return nil
    }

    mutating func decline(
        _ offerIDs: [OfferID],
        filters: Filters?,
        from id: FrameworkID,
        now: Duration
    )
        -> [MasterAction]
    {
        let refuse = min(filters?.refuseSeconds ?? self.configuration.defaultRefuseSeconds, 365 * 86400)
        for offerID in offerIDs {
            guard let record = self.offers[offerID], record.offer.frameworkId == id else { continue }
            _ = self.removeOffer(offerID)
            if refuse > 0 {
                self.frameworks[id]?.filters[record.offer.agentId] = now + Saturating.duration(seconds: refuse)
            }
        }
        return []
    }

    /// Rescinds offers older than the offer timeout and removes frameworks whose failover timeout expired (part of
    /// ``timerFired(now:)``).
    public mutating func tick(now: Duration) -> [MasterAction] {
        var actions: [MasterAction] = []
        if let timeout = self.configuration.offerTimeout {
            for (id, record) in self.offers.sorted(by: { $0.key < $1.key }) where record.createdAt + timeout <= now {
                _ = self.removeOffer(id)
                actions.append(.frameworkEvent(record.offer.frameworkId, .rescind(id)))
            }
        }
        for (id, framework) in self.frameworks.sorted(by: { $0.key < $1.key }) {
            guard let disconnectedAt = framework.disconnectedAt else { continue }
            let timeout = Saturating.duration(seconds: framework.info.failoverTimeout ?? 0)
            if disconnectedAt + timeout <= now {
                actions += self.removeFramework(id, now: now)
            }
        }
        return actions
    }

    /// Whether `framework` refused `agent` until after `now`.
    public func isFiltered(_ framework: FrameworkRecord, agent: AgentID, now: Duration) -> Bool {
        guard let until = framework.filters[agent] else { return false }
        return until > now
    }

    mutating func expireFilters(now: Duration) {
        for index in self.frameworks.indices
        where self.frameworks.values[index].filters.values.contains(where: { $0 <= now }) {
            self.frameworks.values[index].filters = self.frameworks.values[index].filters.filter { $0.value > now }
        }
    }

    @discardableResult
    mutating func removeOffer(_ id: OfferID) -> OfferRecord? {
        guard let record = self.offers.removeValue(forKey: id) else { return nil }
        self.agents[record.offer.agentId]?.offered -= record.resources
        self.agents[record.offer.agentId]?.offers.remove(id)
        self.frameworks[record.offer.frameworkId]?.offers.remove(id)
        self.frameworks[record.offer.frameworkId]?.offeredResources -= record.resources
        return record
    }

    mutating func recoverOffers(of framework: inout FrameworkRecord, rescind: Bool) -> [MasterAction] {
        var actions: [MasterAction] = []
        for offerID in framework.offers.sorted() {
            guard let record = self.offers.removeValue(forKey: offerID) else { continue }
            self.agents[record.offer.agentId]?.offered -= record.resources
            self.agents[record.offer.agentId]?.offers.remove(offerID)
            if rescind { actions.append(.frameworkEvent(framework.id, .rescind(offerID))) }
        }
        framework.offers = []
        framework.offeredResources = Resources()
        return actions
    }

    mutating func recoverOffers(onAgent agent: inout AgentRecord) -> [MasterAction] {
        var actions: [MasterAction] = []
        for offerID in agent.offers.sorted() {
            guard let record = self.offers.removeValue(forKey: offerID) else { continue }
            self.frameworks[record.offer.frameworkId]?.offers.remove(offerID)
            self.frameworks[record.offer.frameworkId]?.offeredResources -= record.resources
            if self.frameworks[record.offer.frameworkId]?.isConnected == true {
                actions.append(.frameworkEvent(record.offer.frameworkId, .rescind(offerID)))
            }
        }
        agent.offers = []
        agent.offered = Resources()
        return actions
    }
}
