// SPDX-License-Identifier: Apache-2.0

/// An event from the master to a framework, as Mesos's `scheduler.Event` (v1 HTTP API).
public struct SchedulerEvent: Codable, Hashable, Sendable {
    public enum EventType: String, Codable, Hashable, Sendable {
        case unknown = "UNKNOWN"
        case subscribed = "SUBSCRIBED"
        case offers = "OFFERS"
        case inverseOffers = "INVERSE_OFFERS"
        case rescind = "RESCIND"
        case rescindInverseOffer = "RESCIND_INVERSE_OFFER"
        case update = "UPDATE"
        case updateOperationStatus = "UPDATE_OPERATION_STATUS"
        case message = "MESSAGE"
        case failure = "FAILURE"
        case error = "ERROR"
        case heartbeat = "HEARTBEAT"
    }
    public struct Subscribed: Codable, Hashable, Sendable {
        public var frameworkId: FrameworkID
        public var heartbeatIntervalSeconds: Double?
        public var masterInfo: MasterInfo?
        public init(frameworkId: FrameworkID, heartbeatIntervalSeconds: Double?, masterInfo: MasterInfo? = nil) {
            self.frameworkId = frameworkId
            self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
            self.masterInfo = masterInfo
        }
    }
    public struct Offers: Codable, Hashable, Sendable {
        public var offers: [Offer]
        public init(offers: [Offer]) { self.offers = offers }
    }
    public struct Rescind: Codable, Hashable, Sendable {
        public var offerId: OfferID
        public init(offerId: OfferID) { self.offerId = offerId }
    }
    public struct Update: Codable, Hashable, Sendable {
        public var status: TaskStatus
        public init(status: TaskStatus) { self.status = status }
    }
    public struct Message: Codable, Hashable, Sendable {
        public var agentId: AgentID
        public var executorId: ExecutorID
        public var data: String
    }
    public struct Failure: Codable, Hashable, Sendable {
        public var agentId: AgentID?
        public var executorId: ExecutorID?
        public var status: Int?
        public init(agentId: AgentID?) { self.agentId = agentId }
    }
    public struct ErrorInfo: Codable, Hashable, Sendable {
        public var message: String
        public init(message: String) { self.message = message }
    }

    public var type: EventType
    public var subscribed: Subscribed?
    public var offers: Offers?
    public var rescind: Rescind?
    public var update: Update?
    public var message: Message?
    public var failure: Failure?
    public var error: ErrorInfo?

    public init(type: EventType) { self.type = type }

    public static func subscribed(_ value: Subscribed) -> SchedulerEvent {
        var event = SchedulerEvent(type: .subscribed)
        event.subscribed = value
        return event
    }
    public static func offers(_ offers: [Offer]) -> SchedulerEvent {
        var event = SchedulerEvent(type: .offers)
        event.offers = Offers(offers: offers)
        return event
    }
    public static func rescind(_ id: OfferID) -> SchedulerEvent {
        var event = SchedulerEvent(type: .rescind)
        event.rescind = Rescind(offerId: id)
        return event
    }
    public static func update(_ status: TaskStatus) -> SchedulerEvent {
        var event = SchedulerEvent(type: .update)
        event.update = Update(status: status)
        return event
    }
    public static func failure(agent: AgentID) -> SchedulerEvent {
        var event = SchedulerEvent(type: .failure)
        event.failure = Failure(agentId: agent)
        return event
    }
    public static func error(_ message: String) -> SchedulerEvent {
        var event = SchedulerEvent(type: .error)
        event.error = ErrorInfo(message: message)
        return event
    }
    public static let heartbeat = SchedulerEvent(type: .heartbeat)
}
