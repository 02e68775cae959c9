// SPDX-License-Identifier: Apache-2.0
import Foundation

extension MarathonJSON {
    /// Marathon's reasons for not using an offer, in the order of its funnel (`NoOfferMatchReason.reasonFunnel`):
    /// an offer is counted against the first reason that refused it.
    public static let rejectReasonFunnel = [
        "UnfulfilledRole", "UnfulfilledConstraint", "InsufficientCpus", "InsufficientMemory", "InsufficientDisk",
        "InsufficientGpus", "InsufficientPorts",
    ]

    /// Marathon's `rejectSummaryLastOffers`: one `{reason, declined, processed}` step per funnel reason, where
    /// `processed` is the number of offers that reached the step (those declined by earlier reasons do not).
    /// Every reason is listed, with `declined: 0` where none was refused for it; reasons outside the funnel
    /// come last, by name.
    public static func rejectSummary(_ statistics: OfferStatistics) -> [Object] {
        let extra = statistics.rejections.keys.filter { !self.rejectReasonFunnel.contains($0) }.sorted()
        var processed = statistics.processedOffersCount
        return (self.rejectReasonFunnel + extra).map { reason in
            let declined = statistics.rejections[reason] ?? 0
            defer { processed = max(0, processed - declined) }
            return ["reason": reason, "declined": declined, "processed": processed]
        }
    }

    /// `processedOffersSummary` of a queue entry.
    public static func processedOffersSummary(_ statistics: OfferStatistics) -> Object {
        var summary: Object = [
            "processedOffersCount": statistics.processedOffersCount,
            "unusedOffersCount": statistics.unusedOffersCount,
            "rejectSummaryLastOffers": self.rejectSummary(statistics),
        ]
        if let at = statistics.lastUnusedOfferAt { summary["lastUnusedOfferAt"] = at }
        if let at = statistics.lastUsedOfferAt { summary["lastUsedOfferAt"] = at }
        return summary
    }

    /// One entry of `GET /v2/queue`: `{app, count, delay:{timeLeftSeconds, overdue}, since, processedOffersSummary}`
    /// plus `lastUnusedOffers` when embedded.
    ///
    /// Marathon's queue item has no `role` field (the app carries it); marathon-python refuses unknown fields.
    /// - Parameters:
    ///   - delayLeft: time until the app may launch again (backoff); zero or less when it may launch now.
    ///   - since: when the app started waiting (ISO 8601).
    public static func queueItem(
        app: AppDefinition,
        count: Int,
        delayLeft: Duration,
        since: String,
        statistics: OfferStatistics?,
        embedLastUnusedOffers: Bool
    ) -> Object {
        let left = Double(delayLeft.components.seconds) + Double(delayLeft.components.attoseconds) / 1e18
        var item: Object = [
            "app": self.object(app),
            "count": count,
            "delay": ["timeLeftSeconds": Int(saturating: max(0, left).rounded(.up)), "overdue": left <= 0] as Object,
            "since": since,
            "processedOffersSummary": self.processedOffersSummary(statistics ?? OfferStatistics()),
        ]
        if embedLastUnusedOffers {
            // Regatta keeps counts per reason, not the offers themselves.
            item["lastUnusedOffers"] = [] as [Any]
        }
        return item
    }
}
