@testable import Runtime
import Synchronization
import Testing

/// The importer reports every 64 KiB; the reporter passes on only what a progress bar needs.
@Suite("Import progress reporting")
struct ImportProgressReporterTests {
    func reported(_ updates: [ImportProgress]) -> [ImportProgress] {
        let seen = Mutex<[ImportProgress]>([])
        // An interval no test reaches: only milestones and ends pass.
        let reporter = ImportProgressReporter({ progress in seen.withLock { $0.append(progress) } }, interval: .seconds(3600))
        for update in updates { reporter.update(update) }
        return seen.withLock { $0 }
    }

    @Test("within one phase, the first and the complete update pass; the steps between wait for the interval")
    func throttlesWithinPhase() {
        let updates = (0...10).map { ImportProgress(phase: .reading, bytesRead: Int64($0) * 100, bytesTotal: 1000) }
        #expect(reported(updates).map(\.bytesRead) == [0, 1000])
    }

    @Test("a new phase and every unpacked layer pass at once")
    func milestonesPass() {
        let updates = [
            ImportProgress(phase: .reading, bytesRead: 10, bytesTotal: 1000),
            ImportProgress(phase: .unpacking, bytesRead: 0, bytesTotal: 500, layersTotal: 2),
            ImportProgress(phase: .unpacking, bytesRead: 100, bytesTotal: 500, layersTotal: 2),
            ImportProgress(phase: .unpacking, bytesRead: 200, bytesTotal: 500, layersUnpacked: 1, layersTotal: 2),
            ImportProgress(phase: .unpacking, bytesRead: 500, bytesTotal: 500, layersUnpacked: 2, layersTotal: 2),
            ImportProgress(phase: .unpacking, bytesRead: 500, bytesTotal: 500, layersUnpacked: 2, layersTotal: 2),
        ]
        #expect(reported(updates) == [updates[0], updates[1], updates[3], updates[4]])
    }

    @Test("with no listener, nothing is computed for it")
    func inactive() {
        let reporter = ImportProgressReporter(nil)
        #expect(!reporter.isActive)
        reporter.update(ImportProgress(phase: .reading, bytesRead: 1, bytesTotal: 2))
    }
}
