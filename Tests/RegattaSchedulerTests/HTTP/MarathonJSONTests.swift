// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaScheduler

/// The fields marathon-python 0.13's models accept (it passes every JSON field as a keyword argument, so any other
/// field makes it raise `TypeError`).
enum MarathonPythonFields {
    static let app: Set<String> = [
        "acceptedResourceRoles", "args", "backoffFactor", "backoffSeconds", "cmd", "constraints", "container", "cpus",
        "dependencies", "deployments", "disk", "env", "executor", "healthChecks", "id", "role", "instances",
        "killSelection", "labels", "lastTaskFailure", "maxLaunchDelaySeconds", "mem", "ports", "requirePorts",
        "storeUrls", "taskRateLimit", "tasks", "tasksRunning", "tasksStaged", "tasksHealthy",
        "taskKillGracePeriodSeconds", "tasksUnhealthy", "upgradeStrategy", "unreachableStrategy", "uris", "user",
        "version", "versionInfo", "ipAddress", "fetch", "taskStats", "readinessChecks", "readinessCheckResults",
        "secrets", "portDefinitions", "residency", "gpus", "networks",
    ]
    static let task: Set<String> = [
        "appId", "healthCheckResults", "host", "id", "ports", "servicePorts", "slaveId", "stagedAt", "startedAt",
        "version", "ipAddresses", "state", "localVolumes", "region", "zone", "role",
    ]
    static let healthCheckResult: Set<String> = [
        "alive", "consecutiveFailures", "firstSuccess", "lastFailure", "lastSuccess", "taskId", "lastFailureCause",
        "instanceId",
    ]
    static let queueItem: Set<String> = [
        "app", "overdue", "count", "delay", "since", "processedOffersSummary", "lastUnusedOffers",
    ]
    static let deployment: Set<String> = [
        "affectedApps", "currentActions", "currentStep", "id", "steps", "totalSteps", "version", "affectedPods",
    ]
    static let deploymentAction: Set<String> = ["action", "app", "apps", "type", "readinessCheckResults", "pod"]
    static let plan: Set<String> = ["original", "target", "steps", "id", "version"]
    static let planGroup: Set<String> = ["dependencies", "apps", "id", "version", "groups", "pods"]
    static let taskStatsCategory: Set<String> = [
        "startedAfterLastScaling", "withLatestConfig", "withOutdatedConfig", "totalSummary",
    ]
}

func keys(_ object: Any?) -> Set<String> {
    Set((object as? [String: Any])?.keys.map { $0 } ?? [])
}

@Suite struct MarathonJSONTests {
    static let version = "2027-01-15T08:00:00.000Z"

    /// A state with `/web` (2 instances: one running healthy since 08:00:10, one staging) and a failure.
    func state() -> (SchedulerState, AppDefinition) {
        var app = Fixture.app(id: "/web", instances: 3)
        app.version = Self.version
        app.versionInfo = VersionInfo(lastScalingAt: Self.version, lastConfigChangeAt: Self.version)
        app.portDefinitions = [PortDefinition(port: 10000)]
        var running = Instance(
            id: "web.instance-a",
            appId: "/web",
            version: Self.version,
            taskId: TaskID("web.instance-a._app.1"),
            agentId: AgentID("agent-1"),
            host: "10.0.0.1",
            ports: [31000],
            state: .running,
            stagedAt: "2027-01-15T08:00:05.000Z"
        )
        running.startedAt = "2027-01-15T08:00:10.000Z"
        running.healthy = true
        let staging = Instance(
            id: "web.instance-b",
            appId: "/web",
            version: "2026-01-01T00:00:00.000Z",
            taskId: TaskID("web.instance-b._app.1"),
            agentId: AgentID("agent-1"),
            host: "10.0.0.1",
            ports: [31001],
            stagedAt: "2027-01-15T08:00:06.000Z"
        )
        var state = SchedulerState()
        state.load(apps: [app], instances: [running, staging])
        return (state, app)
    }

    /// One AppInfo as the API writes it, parsed.
    static func appInfo(
        _ app: AppDefinition,
        state: SchedulerState,
        embed: MarathonJSON.AppEmbed,
        now: Date
    ) throws
        -> [String: Any]
    {
        let view = MarathonAppsView(state: state, healthResults: [:], now: now)
        let document = try JSONSerialization.jsonObject(with: Data(view.appDocument(app, embed: embed)))
        return try #require((document as? [String: Any])?["app"] as? [String: Any])
    }

    /// One Task as the API writes it, parsed.
    static func task(
        _ instance: Instance,
        in state: SchedulerState,
        healthResults: [String: [HealthCheckResult]]
    )
        throws -> [String: Any]
    {
        let view = MarathonAppsView(state: state, healthResults: healthResults, now: Date())
        let document = try JSONSerialization.jsonObject(with: Data(view.taskDocument(instance)))
        return try #require((document as? [String: Any])?["task"] as? [String: Any])
    }

    @Test func appInfoHasOnlyMarathonFieldsAndTheEmbedsAskedFor() throws {
        // Given
        let (state, app) = self.state()
        let now = try #require(MarathonJSON.date("2027-01-15T08:01:10.000Z"))
        // When every embed is asked for
        let embed = MarathonJSON.AppEmbed.parse(["app.counts", "apps.deployments,apps.readiness", "app.taskStats"])
            .union([.tasks, .lastTaskFailure])
        let info = try Self.appInfo(app, state: state, embed: embed, now: now)
        // Then
        #expect(
            keys(info).isSubset(of: MarathonPythonFields.app),
            "\(keys(info).subtracting(MarathonPythonFields.app))"
        )
        #expect(info["tasksRunning"] as? Int == 1)
        #expect(info["tasksStaged"] as? Int == 1)
        #expect(info["tasksHealthy"] as? Int == 1)
        #expect(info["tasksUnhealthy"] as? Int == 0)
        #expect((info["tasks"] as? [Any])?.count == 2)
        #expect((info["readinessCheckResults"] as? [Any])?.isEmpty == true)
        let stats = try #require(info["taskStats"] as? [String: Any])
        #expect(keys(stats).isSubset(of: MarathonPythonFields.taskStatsCategory))
        let total = try #require((stats["totalSummary"] as? [String: Any])?["stats"] as? [String: Any])
        #expect(total["counts"] as? [String: Int] == ["staged": 1, "running": 1, "healthy": 1, "unhealthy": 0])
        let lifeTime = try #require(total["lifeTime"] as? [String: Double])
        #expect(lifeTime == ["averageSeconds": 60, "medianSeconds": 60])
        let outdated = try #require((stats["withOutdatedConfig"] as? [String: Any])?["stats"] as? [String: Any])
        #expect(outdated["counts"] as? [String: Int] == ["staged": 1, "running": 0, "healthy": 0, "unhealthy": 0])
        #expect(outdated["lifeTime"] == nil, "no running task, no life time")
    }

    @Test func appInfoWithoutEmbedsIsTheDefinition() throws {
        let (state, app) = self.state()
        let info = try Self.appInfo(app, state: state, embed: [], now: Date())
        #expect(info["tasks"] == nil)
        #expect(info["tasksRunning"] == nil)
        #expect(info["deployments"] == nil)
        #expect(info["taskStats"] == nil)
        #expect(info["id"] as? String == "/web")
    }

    @Test func embedNamesTakeBothPrefixesAndMarathonAliases() {
        #expect(MarathonJSON.AppEmbed.parse(["apps.counts"]) == [.counts])
        #expect(MarathonJSON.AppEmbed.parse(["app.counts"]) == [.counts])
        #expect(MarathonJSON.AppEmbed.parse(["apps.failures"]) == [.lastTaskFailure])
        #expect(MarathonJSON.AppEmbed.parse(["apps.tasks"]) == [.tasks, .deployments])
        #expect(MarathonJSON.AppEmbed.parse(["apps.lastTaskFailure", "bogus"]) == [.lastTaskFailure])
        #expect(MarathonJSON.AppEmbed.parse(["apps.taskStats", "app.readiness"]) == [.taskStats, .readiness])
    }

    @Test func taskRendersSchedulerHealthResultsWhenPresent() throws {
        // Given
        let (state, _) = self.state()
        let instance = try #require(state.instances["web.instance-a"])
        let results = [
            HealthCheckResult(
                alive: false,
                consecutiveFailures: 2,
                firstSuccess: "2027-01-15T08:00:20.000Z",
                lastFailure: "2027-01-15T08:00:40.000Z",
                lastFailureCause: "connection refused",
                instanceId: instance.id
            )
        ]
        // When
        let task = try Self.task(instance, in: state, healthResults: [instance.id: results])
        let fallback = try Self.task(instance, in: state, healthResults: [:])
        // Then
        #expect(keys(task).isSubset(of: MarathonPythonFields.task))
        let rendered = try #require((task["healthCheckResults"] as? [[String: Any]])?.first)
        #expect(keys(rendered).isSubset(of: MarathonPythonFields.healthCheckResult))
        #expect(rendered["alive"] as? Bool == false)
        #expect(rendered["consecutiveFailures"] as? Int == 2)
        #expect(rendered["lastFailureCause"] as? String == "connection refused")
        let derived = try #require((fallback["healthCheckResults"] as? [[String: Any]])?.first)
        #expect(derived["alive"] as? Bool == true, "without scheduler results, the agent-reported health is shown")
        #expect(task["servicePorts"] as? [Int] == [10000])
        #expect(task["startedAt"] as? String == "2027-01-15T08:00:10.000Z")
    }

    @Test func queueItemFunnelsRejectReasons() throws {
        // Given 10 offers: 2 used, 8 unused (1 constraint, 5 cpus, 2 memory)
        let (_, app) = self.state()
        var statistics = OfferStatistics()
        statistics.processedOffersCount = 10
        statistics.unusedOffersCount = 8
        statistics.lastUnusedOfferAt = "2027-01-15T08:00:30.000Z"
        statistics.rejections = ["UnfulfilledConstraint": 1, "InsufficientCpus": 5, "InsufficientMemory": 2]
        // When
        let item = MarathonJSON.queueItem(
            app: app,
            count: 2,
            delayLeft: .milliseconds(2500),
            since: Self.version,
            statistics: statistics,
            embedLastUnusedOffers: false
        )
        // Then
        #expect(keys(item).isSubset(of: MarathonPythonFields.queueItem), "no `role`: marathon-python refuses it")
        #expect(item["count"] as? Int == 2)
        #expect(item["delay"] as? [String: AnyHashable] == ["timeLeftSeconds": 3, "overdue": false])
        let summary = try #require(item["processedOffersSummary"] as? [String: Any])
        #expect(summary["processedOffersCount"] as? Int == 10)
        #expect(summary["unusedOffersCount"] as? Int == 8)
        #expect(summary["lastUnusedOfferAt"] as? String == "2027-01-15T08:00:30.000Z")
        #expect(summary["lastUsedOfferAt"] == nil)
        let steps = try #require(summary["rejectSummaryLastOffers"] as? [[String: AnyHashable]])
        #expect(
            steps == [
                ["reason": "UnfulfilledRole", "declined": 0, "processed": 10],
                ["reason": "UnfulfilledConstraint", "declined": 1, "processed": 10],
                ["reason": "InsufficientCpus", "declined": 5, "processed": 9],
                ["reason": "InsufficientMemory", "declined": 2, "processed": 4],
                ["reason": "InsufficientDisk", "declined": 0, "processed": 2],
                ["reason": "InsufficientGpus", "declined": 0, "processed": 2],
                ["reason": "InsufficientPorts", "declined": 0, "processed": 2],
            ]
        )
    }

    @Test func queueItemWithoutStatisticsOrDelay() throws {
        let (_, app) = self.state()
        let item = MarathonJSON.queueItem(
            app: app,
            count: 1,
            delayLeft: .seconds(-3),
            since: Self.version,
            statistics: nil,
            embedLastUnusedOffers: true
        )
        #expect(item["delay"] as? [String: AnyHashable] == ["timeLeftSeconds": 0, "overdue": true])
        #expect((item["lastUnusedOffers"] as? [Any])?.isEmpty == true)
        let summary = try #require(item["processedOffersSummary"] as? [String: Any])
        #expect((summary["rejectSummaryLastOffers"] as? [Any])?.count == MarathonJSON.rejectReasonFunnel.count)
    }

    @Test func deploymentAndPlanShapes() throws {
        let deployment = Deployment(id: "d1", appId: "/web", version: Self.version, action: "RestartApplication")
        let listed = MarathonJSON.deployment(deployment)
        #expect(keys(listed).isSubset(of: MarathonPythonFields.deployment))
        for action in listed["currentActions"] as? [[String: Any]] ?? [] {
            #expect(keys(action).isSubset(of: MarathonPythonFields.deploymentAction))
        }
        let plan = MarathonJSON.deploymentPlan(deployment)
        #expect(keys(plan) == MarathonPythonFields.plan)
        #expect(keys(plan["original"]).isSubset(of: MarathonPythonFields.planGroup))
        #expect(keys(plan["target"]).isSubset(of: MarathonPythonFields.planGroup))
        let start = MarathonJSON.deploymentPlan(
            Deployment(id: "d2", appId: "/web", version: Self.version, action: "StartApplication")
        )
        #expect(((start["original"] as? [String: Any])?["apps"] as? [Any])?.isEmpty == true)
        #expect(((start["target"] as? [String: Any])?["apps"] as? [[String: String]]) == [["id": "/web"]])
    }

    @Test func instanceIDOfTaskID() {
        #expect(MarathonJSON.instanceID(of: TaskID("prod_web.instance-u1._app.3")) == "prod_web.instance-u1")
        #expect(MarathonJSON.instanceID(of: TaskID("web.marathon-u1")) == "web.marathon-u1")
    }

    @Test func timestampsRoundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_800_000_000.5)
        #expect(MarathonJSON.timestamp(date) == "2027-01-15T08:00:00.500Z")
        #expect(MarathonJSON.date("2027-01-15T08:00:00.500Z") == date)
        #expect(MarathonJSON.date("2027-01-15T08:00:00Z") == Date(timeIntervalSince1970: 1_800_000_000))
    }
}

@Suite struct MarathonEventJSONTests {
    let instance: Instance = {
        var instance = Instance(
            id: "web.instance-a",
            appId: "/web",
            version: "v1",
            taskId: TaskID("web.instance-a._app.1"),
            agentId: AgentID("agent-1"),
            host: "10.0.0.1",
            ports: [31000],
            state: .running,
            stagedAt: "s"
        )
        instance.startedAt = "t"
        return instance
    }()

    @Test func statusUpdateEvent() {
        let status = TaskStatus(
            taskId: self.instance.taskId,
            state: .running,
            message: "started",
            agentId: AgentID("agent-1")
        )
        let event = MarathonEvent.statusUpdate(self.instance, status)
        let fields = event.marathonFields()
        #expect(event.eventType == "status_update_event")
        #expect(fields["slaveId"] as? String == "agent-1")
        #expect(fields["taskId"] as? String == "web.instance-a._app.1")
        #expect(fields["taskStatus"] as? String == "TASK_RUNNING")
        #expect(fields["message"] as? String == "started")
        #expect(fields["appId"] as? String == "/web")
        #expect(fields["host"] as? String == "10.0.0.1")
        #expect(fields["ports"] as? [Int] == [31000])
        #expect(fields["version"] as? String == "v1")
        #expect(fields["ipAddresses"] as? [[String: String]] == [["ipAddress": "10.0.0.1", "protocol": "IPv4"]])
    }

    @Test func instanceChangedEvent() {
        let event = MarathonEvent.instanceChanged(self.instance, condition: "Running")
        #expect(event.eventType == "instance_changed_event")
        #expect(
            event.marathonFields() as? [String: String] == [
                "instanceId": "web.instance-a", "condition": "Running", "runSpecId": "/web", "agentId": "agent-1",
                "host": "10.0.0.1", "runSpecVersion": "v1",
            ]
        )
    }

    @Test func apiPostEvent() {
        let event = MarathonEvent.apiPost(Fixture.app(id: "/web"), uri: "/v2/apps", clientIP: "127.0.0.1")
        let fields = event.marathonFields()
        #expect(event.eventType == "api_post_event")
        #expect(fields["clientIp"] as? String == "127.0.0.1")
        #expect(fields["uri"] as? String == "/v2/apps")
        #expect((fields["appDefinition"] as? [String: Any])?["id"] as? String == "/web")
    }

    @Test func deploymentEvents() {
        let deployment = Deployment(id: "d1", appId: "/web", version: "v1", action: "ScaleApplication")
        let info = MarathonEvent.deploymentInfo(deployment)
        #expect(info.eventType == "deployment_info")
        #expect(keys(info.marathonFields()) == ["plan", "currentStep"])
        #expect(
            (info.marathonFields()["currentStep"] as? [String: [[String: String]]])
                == ["actions": [["action": "ScaleApplication", "app": "/web"]]]
        )
        #expect(MarathonEvent.deploymentSuccess(deployment).eventType == "deployment_success")
        #expect(MarathonEvent.deploymentFailed(deployment).eventType == "deployment_failed")
        #expect(MarathonEvent.deploymentFailed(deployment).marathonFields()["id"] as? String == "d1")
    }

    @Test func healthEvents() {
        let changed = MarathonEvent.healthStatusChanged(appId: "/web", instanceId: "i", version: "v1", alive: false)
        #expect(changed.eventType == "health_status_changed_event")
        #expect(changed.marathonFields()["alive"] as? Bool == false)
        let failed = MarathonEvent.failedHealthCheck(
            appId: "/web",
            taskId: self.instance.taskId,
            healthCheck: AppHealthCheck(protocol: "TCP", path: nil)
        )
        #expect(failed.eventType == "failed_health_check_event")
        #expect(failed.marathonFields()["instanceId"] as? String == "web.instance-a")
        #expect((failed.marathonFields()["healthCheck"] as? [String: Any])?["protocol"] as? String == "TCP")
        let kill = MarathonEvent.unhealthyInstanceKill(self.instance, reason: "3 consecutive failures")
        #expect(kill.eventType == "unhealthy_instance_kill_event")
        #expect(
            kill.marathonFields() as? [String: String] == [
                "appId": "/web", "taskId": "web.instance-a._app.1", "instanceId": "web.instance-a", "version": "v1",
                "reason": "3 consecutive failures", "host": "10.0.0.1", "slaveId": "agent-1",
            ]
        )
    }
}
