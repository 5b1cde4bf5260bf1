import Foundation
import SwiftletFiles

/// Writes a volume's file set so that readers never see half of it, as upstream's atomic writer
/// does: the files go into a fresh `..<timestamp>` folder, the `..data` symlink is swapped to it
/// with one rename, and each top-level name is a symlink through `..data`. An unchanged set is
/// not rewritten. A `subPath` mount binds the file behind the links, so it keeps its old bytes.
struct AtomicWriter {
    let directory: String
    static let dataLink = "..data"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Returns whether anything changed on disk.
    @discardableResult
    func write(_ files: [String: VolumeFiles.File]) throws(Failure) -> Bool {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw Failure(description: "cannot create \(directory): \(error.localizedDescription)")
        }
        let current = try? manager.destinationOfSymbolicLink(atPath: "\(directory)/\(Self.dataLink)")
        let old = current.map { Self.regularFiles(in: "\(directory)/\($0)") } ?? [:]
        if current != nil, old == files { return false }

        let stamp = Self.stamp(Date())
        var template = Array("\(directory)/..\(stamp).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp in \(directory): \(String(cString: strerror(errno)))") }
        let fresh = String(cString: made)
        let freshName = (fresh as NSString).lastPathComponent
        chmod(fresh, 0o755)
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            let target = "\(fresh)/\(path)"
            let parent = (target as NSString).deletingLastPathComponent
            do {
                try manager.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch {
                throw Failure(description: "cannot create \(parent): \(error.localizedDescription)")
            }
            // Not flushed, as upstream's atomic writer does not flush: the set becomes visible by
            // the link swap, and a power loss is followed by a fresh write at the pod's next sync.
            do { try WholeFile.write(file.bytes, to: target, mode: mode_t(file.mode & 0o7777), durable: false) } catch {
                throw Failure(description: "cannot write \(target): \(error)")
            }
        }
        // The swap: a new link beside the old one, renamed over it in one step.
        let temporaryLink = "\(directory)/..data_tmp"
        unlink(temporaryLink)
        guard symlink(freshName, temporaryLink) == 0, rename(temporaryLink, "\(directory)/\(Self.dataLink)") == 0 else {
            throw Failure(description: "cannot point \(directory)/..data at \(freshName): \(String(cString: strerror(errno)))")
        }
        let newTop = Set(files.keys.map { String($0.split(separator: "/").first ?? "") })
        let oldTop = Set(old.keys.map { String($0.split(separator: "/").first ?? "") })
        for name in newTop.subtracting(oldTop) {
            let link = "\(directory)/\(name)"
            if (try? manager.destinationOfSymbolicLink(atPath: link)) == "\(Self.dataLink)/\(name)" { continue }
            unlink(link)
            guard symlink("\(Self.dataLink)/\(name)", link) == 0 else {
                throw Failure(description: "cannot link \(link): \(String(cString: strerror(errno)))")
            }
        }
        for name in oldTop.subtracting(newTop) {
            // Only our own links go; anything else in the folder is not ours to remove.
            if (try? manager.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) != nil { unlink("\(directory)/\(name)") }
        }
        if let current, current != freshName, current.hasPrefix("..") { try? manager.removeItem(atPath: "\(directory)/\(current)") }
        return true
    }

    /// The files under `root` (relative paths), with their bytes and permission bits.
    static func regularFiles(in root: String) -> [String: VolumeFiles.File] {
        var result: [String: VolumeFiles.File] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else { return result }
        while let path = walker.nextObject() as? String {
            let full = "\(root)/\(path)"
            var info = stat()
            guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  let data = FileManager.default.contents(atPath: full) else { continue }
            result[path] = VolumeFiles.File(Array(data), mode: Int32(info.st_mode & 0o7777))
        }
        return result
    }

    /// `2026_12_01_10_14_45.123456789`, in UTC, as upstream names its folders.
    static func stamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let nanos = Int((date.timeIntervalSince1970 - Double(time)) * 1e9)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = String(nanos)
        return "\(parts.tm_year + 1900)_\(two(parts.tm_mon + 1))_\(two(parts.tm_mday))_\(two(parts.tm_hour))_\(two(parts.tm_min))_\(two(parts.tm_sec))."
            + String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
    }
}
