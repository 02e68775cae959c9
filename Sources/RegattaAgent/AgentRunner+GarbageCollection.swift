// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

extension AgentRunner {
    /// Deletes the sandboxes of finished tasks `gc_delay` after they ended, every `gc_interval`, until the calling
    /// task is cancelled.
    func runGarbageCollection() async {
        while !Task.isCancelled {
            await self.collectGarbage(wallNow: self.environment.wallClock())
            do {
                try await self.sleep(for: self.configuration.gcInterval)
            } catch {
                return
            }
        }
    }

    /// One collection: runs the core forgot, plus sandboxes under `<work_dir>/slaves` of no run the agent tracks
    /// (from older agents) whose directory is older than `gc_delay`. Removes empty parent directories.
    func collectGarbage(wallNow: Double) async {
        let layout = SandboxLayout(workDir: self.configuration.workDir)
        var paths = await self.core.collectGarbage(wallNow: wallNow, gcDelay: self.configuration.gcDelay)
        let tracked = await self.core.trackedContainers()
        for run in layout.allRunDirectories() where !tracked.contains(ContainerID((run as NSString).lastPathComponent))
        {
            let modified =
                (try? FileManager.default.attributesOfItem(atPath: run)[.modificationDate] as? Date)?
                .timeIntervalSince1970 ?? wallNow
            if modified + self.configuration.gcDelay.seconds <= wallNow {
                paths.append(run)
            }
        }
        for path in paths {
            do {
                try FileManager.default.removeItem(atPath: path)
                self.logger.debug("Removed a finished task's directory", metadata: [LogKey.sandbox: "\(path)"])
            } catch {
                if FileManager.default.fileExists(atPath: path) {
                    self.logger.warning(
                        "Cannot remove a finished task's directory",
                        metadata: [LogKey.sandbox: "\(path)", LogKey.error: "\(error)"]
                    )
                }
            }
            layout.removeEmptyParents(of: path)
        }
    }
}
