// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct ResourceDetectorTests {
    private let gib: UInt64 = 1 << 30
    private let mib: UInt64 = 1 << 20

    @Test func memoryLeavesOneGigabyteFromTwoGigabytesUp() {
        #expect(ResourceDetector.memoryMegabytes(totalBytes: 16 * self.gib) == 15360)
        #expect(ResourceDetector.memoryMegabytes(totalBytes: 2 * self.gib) == 1024)
        #expect(ResourceDetector.memoryMegabytes(totalBytes: 8 * self.gib + 512 * self.mib) == 7680)
    }

    @Test func memoryBelowTwoGigabytesOffersHalf() {
        #expect(ResourceDetector.memoryMegabytes(totalBytes: 2 * self.gib - self.mib) == 1023)
        #expect(ResourceDetector.memoryMegabytes(totalBytes: self.gib) == 512)
        #expect(ResourceDetector.memoryMegabytes(totalBytes: 0) == 0)
    }

    @Test func diskLeavesFiveGigabytesFromTenGigabytesUp() {
        #expect(ResourceDetector.diskMegabytes(fileSystemBytes: 100 * self.gib) == 97280)
        #expect(ResourceDetector.diskMegabytes(fileSystemBytes: 10 * self.gib) == 5120)
    }

    @Test func diskBelowTenGigabytesOffersHalf() {
        #expect(ResourceDetector.diskMegabytes(fileSystemBytes: 8 * self.gib) == 4096)
        #expect(ResourceDetector.diskMegabytes(fileSystemBytes: 10 * self.gib - 2 * self.mib) == 5119)
        // Partial megabytes are dropped.
        #expect(ResourceDetector.diskMegabytes(fileSystemBytes: 3 * self.mib + 1) == 1)
    }

    @Test func parsesMemTotal() {
        let meminfo = """
            MemTotal:       16318600 kB
            MemFree:         1234567 kB
            MemAvailable:    9000000 kB
            """
        #expect(ResourceDetector.memoryTotalBytes(meminfo: meminfo) == 16_318_600 * 1024)
        #expect(ResourceDetector.memoryTotalBytes(meminfo: "MemFree: 1 kB") == nil)
    }

    @Test func detectedValuesFillWhatIsNotGiven() throws {
        // Given
        let probe = ResourceDetector.Probe(cpus: 8, memoryBytes: 16 * self.gib, diskBytes: 100 * self.gib)
        // When
        let resources = ResourceDetector.resources(probe: probe, overrides: nil)
        // Then
        #expect(resources == (try Resources.parse("cpus:8;mem:15360;disk:97280;ports:[31000-32000]")))
    }

    @Test func givenNamesReplaceDetectionWhateverTheirRole() throws {
        // Given cpus only for a role, explicit ports and a custom resource
        let overrides = try Resources.parse("cpus(web):2;ports:[40000-40010];gpus:1")
        let probe = ResourceDetector.Probe(cpus: 8, memoryBytes: 4 * self.gib, diskBytes: 8 * self.gib)
        // When
        let resources = ResourceDetector.resources(probe: probe, overrides: overrides)
        // Then detected cpus are not added next to the reserved ones; mem and disk are detected
        #expect(
            resources
                == (try Resources.parse("cpus(web):2;ports:[40000-40010];gpus:1;mem:3072;disk:4096"))
        )
    }

    @Test func detectReadsThisMachine() async throws {
        try await TestSupport.withTemporaryDirectory { directory in
            // When
            let resources = try ResourceDetector.detect(workDir: directory, overrides: try Resources.parse("mem:100"))
            // Then
            #expect(resources.scalar("cpus").value >= 1)
            #expect(resources.scalar("cpus").value == Double(ResourceDetector.onlineCPUs()))
            #expect(resources.scalar("mem").value == 100)
            #expect(resources.scalar("disk").value > 0)
            #expect(resources.ranges("ports") == ResourceDetector.defaultPorts)
        }
    }

    @Test func detectFailsClearlyForMissingWorkDirectory() {
        let error = #expect(throws: AgentError.self) {
            try ResourceDetector.detect(workDir: "/nonexistent/regatta/work", overrides: nil)
        }
        #expect(error?.code == .resourceDetection)
        #expect(error?.message.contains("--resources") == true)
    }
}
