// The program a language starts with when the person has no draft of their own: reads a line and
// greets it, so stdin is part of the first run.

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are programs, not templates
const samples: Record<string, string> = {
  python: 'name = input("")\nprint(f"Hello, {name}!")\n',
  pypy: 'name = input("")\nprint(f"Hello, {name}!")\n',
  c: '#include <stdio.h>\n\nint main(void) {\n    char name[100] = "world";\n    scanf("%99s", name);\n    printf("Hello, %s!\\n", name);\n    return 0;\n}\n',
  cpp: '#include <iostream>\n#include <string>\n\nint main() {\n    std::string name = "world";\n    std::cin >> name;\n    std::cout << "Hello, " << name << "!\\n";\n}\n',
  javascript:
    'const name = require("fs").readFileSync(0, "utf8").trim() || "world";\nconsole.log(`Hello, ${name}!`);\n',
  typescript:
    'import { readFileSync } from "fs";\n\nconst name: string = readFileSync(0, "utf8").trim() || "world";\nconsole.log(`Hello, ${name}!`);\n',
  bash: 'read -r name\necho "Hello, ${name:-world}!"\n',
  java: 'import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n        Scanner in = new Scanner(System.in);\n        String name = in.hasNext() ? in.next() : "world";\n        System.out.println("Hello, " + name + "!");\n    }\n}\n',
  go: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "world"\n\tfmt.Scan(&name)\n\tfmt.Printf("Hello, %s!\\n", name)\n}\n',
  rust: 'use std::io::stdin;\n\nfn main() {\n    let mut name = String::new();\n    stdin().read_line(&mut name).unwrap();\n    println!("Hello, {}!", name.trim());\n}\n',
  ruby: 'name = gets&.strip || "world"\nputs "Hello, #{name}!"\n',
  lua: 'local name = io.read("l") or "world"\nprint("Hello, " .. name .. "!")\n',
  perl: 'my $name = <STDIN> // "world";\nchomp $name;\nprint "Hello, $name!\\n";\n',
  php: '<?php\n$name = trim(fgets(STDIN) ?: "world");\necho "Hello, $name!\\n";\n',
  haskell: 'main :: IO ()\nmain = do\n  name <- getLine\n  putStrLn ("Hello, " ++ name ++ "!")\n',
  kotlin: 'fun main() {\n    val name = readLine() ?: "world"\n    println("Hello, $name!")\n}\n',
  csharp:
    'using System;\n\nclass Program {\n    static void Main() {\n        var name = Console.ReadLine() ?? "world";\n        Console.WriteLine($"Hello, {name}!");\n    }\n}\n',
  pascal:
    "program Hello;\nvar name: string;\nbegin\n  ReadLn(name);\n  WriteLn('Hello, ', name, '!');\nend.\n",
  r: 'name <- readLines("stdin", n = 1)\ncat("Hello, ", name, "!\\n", sep = "")\n',
  sqlite: "SELECT 'Hello, world!';\n",
};

export function sampleProgram(languageId: string): string {
  return samples[languageId] ?? "";
}
