// Images are built from the mirror the machine's apt already uses, in either sources format.
import { describe, expect, it } from "vitest";
import { mirrorForSuite, parseAptSourcesFile } from "../../rootfs-recipes/lib/apt-sources.ts";

const deb822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.local/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.local/debian-security
Suites: bookworm-security
Components: main contrib

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
`;

describe("apt sources", () => {
  it("deb822 stanzas yield every enabled deb source, comments and disabled stanzas skipped", () => {
    const sources = parseAptSourcesFile("debian.sources", deb822);
    expect(sources.map((s) => s.uri)).toEqual([
      "http://mirror.local/debian",
      "http://mirror.local/debian-security",
    ]);
    expect(sources[0]?.suites).toEqual(["bookworm", "bookworm-updates"]);
  });

  it("one-line entries parse with their options block removed; deb-src and comments are skipped", () => {
    const text =
      "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main contrib\ndeb-src http://m/debian bookworm main\n";
    expect(parseAptSourcesFile("sources.list", text)).toEqual([
      { uri: "http://m/debian", suites: ["bookworm"], components: ["main", "contrib"] },
    ]);
  });

  it("the suite's mirror is picked for debootstrap and its -updates and -security companions go into the image", () => {
    const { mirror, sourcesList } = mirrorForSuite(parseAptSourcesFile("debian.sources", deb822), "bookworm");
    expect(mirror).toBe("http://mirror.local/debian");
    expect(sourcesList).toBe(
      [
        "deb http://mirror.local/debian bookworm main",
        "deb http://mirror.local/debian bookworm-updates main",
        "deb http://mirror.local/debian-security bookworm-security main contrib",
        "",
      ].join("\n"),
    );
  });

  it("a suite no source carries fails with the sources that were seen", () => {
    expect(() => mirrorForSuite(parseAptSourcesFile("debian.sources", deb822), "trixie")).toThrow(
      /no "deb" source for suite "trixie" \(seen: http:\/\/mirror.local\/debian bookworm,bookworm-updates/,
    );
  });
});
