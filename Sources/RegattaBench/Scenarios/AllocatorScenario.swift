// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import RegattaMaster

/// One allocation round over `agents` agents and `frameworks` frameworks, in-process on ``MasterState`` and
/// ``DRFAllocator`` (no HTTP): the median of several rounds, each on freshly built state.
enum AllocatorScenario {
    static func run(options: BenchOptions, logger: Logger) throws -> BenchReport {
        let agents = options.agents ?? 10_000
        let frameworks = options.frameworks ?? 1_000
        let rounds = max(1, options.rounds)
        guard agents > 0, frameworks > 0 else {
            throw BenchError(.invalidArgument, "The allocator scenario needs at least one agent and one framework.")
        }
        var roundTimes: [Double] = []
        var decisionTimes: [Double] = []
        var offers = 0
        let clock = ContinuousClock()
        for round in 0..<rounds {
            var state = try self.makeState(agents: agents, frameworks: frameworks)
            var allocator = DRFAllocator()
            let decisionStart = clock.now
            let decisions = allocator.allocate(state: state, now: .seconds(1))
            decisionTimes.append((clock.now - decisionStart).milliseconds)
            let roundStart = clock.now
            let actions = state.allocate(now: .seconds(1))
            roundTimes.append((clock.now - roundStart).milliseconds)
            offers = actions.reduce(0) { total, action in
                if case .frameworkEvent(_, let event) = action { return total + (event.offers?.offers.count ?? 0) }
                return total
            }
            logger.info(
                "Allocation round",
                metadata: [
                    LogKey.scenario: "allocator", "round": "\(round + 1)", "ms": "\(roundTimes.last!)",
                    "decisions": "\(decisions.count)",
                ]
            )
        }
        let round = Percentiles(roundTimes)
        let decision = Percentiles(decisionTimes)
        var report = BenchReport(scenario: BenchScenario.allocator.rawValue)
        report.set("agents", agents)
        report.set("frameworks", frameworks)
        report.set("rounds", rounds)
        report.set("offers_per_round", offers)
        report.set("ms_per_round_median", round.median)
        report.set("ms_per_round_min", round.min)
        report.set("ms_per_round_max", round.max)
        report.set("allocator_decision_ms_median", decision.median)
        report.notes.append(
            "A round is MasterState.allocate (filters, DRF decisions, offer records); the decision alone is DRFAllocator.allocate."
        )
        return report
    }

    /// A master state with `agents` registered agents (4 cpus, 8 GiB, racks and zones) and `frameworks`
    /// subscribed frameworks, none holding resources.
    static func makeState(agents: Int, frameworks: Int) throws -> MasterState {
        var state = MasterState(masterID: "bench", configuration: MasterConfiguration())
        let resources = try Resources.parse("cpus:4;mem:8192;disk:10240;ports:[31000-32000]")
        for index in 0..<agents {
            let info = AgentInfo(
                hostname: "agent-\(index)",
                port: 5051,
                resources: resources,
                attributes: [
                    Attribute(name: "rack", value: .text("rack-\(index % 10)")),
                    Attribute(name: "zone", value: .text("zone-\(index % 3)")),
                ]
            )
            _ = try state.subscribeAgent(
                AgentCall.Subscribe(agentInfo: info, tasks: []),
                connection: index + 1,
                pingInterval: .seconds(15),
                masterInfo: nil,
                now: .zero
            )
        }
        for index in 0..<frameworks {
            let info = FrameworkInfo(user: "root", name: "framework-\(index)", failoverTimeout: 0, roles: ["*"])
            _ = try state.subscribe(
                framework: info,
                streamID: "stream-\(index)",
                heartbeat: .seconds(15),
                masterInfo: nil,
                now: .zero
            )
        }
        return state
    }
}
