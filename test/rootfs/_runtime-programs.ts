// Programs for test/rootfs/runtime-features.suite.ts: per runtime, the things real programs do
// beyond a hello-world, each of which meets a part of the sandbox policy — threads (clone flags,
// RLIMIT_NPROC), subprocesses and pipes (fork/exec, wait), timers and signals (SIGPENDING),
// temporary files and /box (tmpfs, the work dir), CPU count and load (/proc masks), terminal checks
// (the ioctl allowlist), file watching (inotify limits and refused read events), name resolution of
// localhost (the image's /etc/hosts). Each prints exactly "ok" or one line per failure, so a
// failing check names what broke. The sources are keyed by language id; pypy runs python's.

export const RUNTIME_PROGRAMS: Record<string, string> = {
  python: `import threading, subprocess, os, time, tempfile, signal, socket, select, mmap, multiprocessing, asyncio, shutil, sys
errs=[]
def t(name, f):
    try: f()
    except Exception as e: errs.append(f"{name}: {type(e).__name__}: {e}")
def threads():
    r=[]; ts=[threading.Thread(target=lambda i=i: r.append(i)) for i in range(8)]
    [x.start() for x in ts]; [x.join() for x in ts]; assert len(r)==8
t("threads", threads)
t("subprocess", lambda: subprocess.run(["/bin/echo","x"],check=True,capture_output=True))
t("shell", lambda: subprocess.run("echo x | cat >/dev/null", shell=True, check=True))
def pool():
    with multiprocessing.Pool(2) as p: assert p.map(abs,[-1,-2])==[1,2]
t("mp-pool", pool)
def tmp():
    with tempfile.TemporaryDirectory() as d:
        p=os.path.join(d,"f")
        with open(p,"w") as f: f.write("x")
        shutil.copy(p,p+"2"); shutil.copy2(p,p+"3")
        with open(p+"3") as f: assert f.read()=="x"
t("tempfile", tmp)
def box():
    with open("/box/out.txt","w") as f: f.write("x")
    os.remove("/box/out.txt")
t("box-write", box)
t("sleep", lambda: time.sleep(0.01))
def alarm():
    got=[]; signal.signal(signal.SIGALRM, lambda *a: got.append(1)); signal.setitimer(signal.ITIMER_REAL,0.01); time.sleep(0.2); assert got
t("itimer", alarm)
def sock():
    a,b=socket.socketpair(); a.send(b"x"); assert select.select([b],[],[],1)[0]; assert b.recv(1)==b"x"
t("socketpair", sock)
def mm():
    m=mmap.mmap(-1,4096); m[0:1]=b"x"; assert m[0:1]==b"x"
t("mmap", mm)
async def aio():
    p=await asyncio.create_subprocess_exec("/bin/echo","x",stdout=asyncio.subprocess.PIPE); o,_=await p.communicate(); assert o==b"x\\n"
t("asyncio-subprocess", lambda: asyncio.run(aio()))
t("cpu_count", lambda: os.cpu_count() or (_ for _ in ()).throw(Exception("none")))
t("isatty", lambda: sys.stdout.isatty())
t("terminal_size", lambda: shutil.get_terminal_size())
t("getloadavg", lambda: os.getloadavg())
def fork():
    pid=os.fork()
    if pid==0: os._exit(3)
    assert os.waitpid(pid,0)[1]>>8==3
t("fork", fork)
print("ok" if not errs else "\\n".join(errs))
`,
  javascript: `const errs=[];const t=async(n,f)=>{try{await f()}catch(e){errs.push(n+": "+e.message)}};
const cp=require("child_process"),fs=require("fs"),os=require("os"),{Worker}=require("worker_threads"),zlib=require("zlib"),crypto=require("crypto");
(async()=>{
await t("execSync",()=>cp.execSync("echo x | cat"));
await t("spawn",()=>new Promise((res,rej)=>{const p=cp.spawn("/bin/echo",["x"]);p.on("exit",c=>c===0?res():rej(new Error("exit "+c)));p.on("error",rej)}));
await t("worker",()=>new Promise((res,rej)=>{const w=new Worker("require('worker_threads').parentPort.postMessage(42)",{eval:true});w.on("message",m=>m===42?res():rej(new Error(m)));w.on("error",rej)}));
await t("fs",()=>{fs.writeFileSync("/tmp/a","x");fs.copyFileSync("/tmp/a","/tmp/b");if(fs.readFileSync("/tmp/b","utf8")!=="x")throw new Error("read")});
await t("fs.promises",async()=>{await fs.promises.writeFile("/box/o","x");await fs.promises.rm("/box/o")});
await t("fs.watch",()=>new Promise((res,rej)=>{fs.mkdirSync("/tmp/w");const w=fs.watch("/tmp/w",()=>{w.close();res()});setTimeout(()=>fs.writeFileSync("/tmp/w/f","x"),10);setTimeout(()=>{w.close();rej(new Error("no event"))},3000)}));
await t("os",()=>{os.cpus();os.loadavg();os.totalmem();os.freemem();os.uptime();os.userInfo()});
await t("timers",()=>new Promise(r=>setTimeout(r,10)));
await t("zlib",()=>zlib.gunzipSync(zlib.gzipSync("x")));
await t("crypto",()=>crypto.randomBytes(16));
await t("scrypt",()=>new Promise((res,rej)=>crypto.scrypt("a","b",16,(e)=>e?rej(e):res())));
await t("dns-lookup-localhost",()=>new Promise((res,rej)=>require("dns").lookup("localhost",(e)=>e?rej(e):res())));
console.log(errs.length?errs.join("\\n"):"ok");
})();
`,
  go: `package main
import ("fmt";"os";"os/exec";"sync";"time";"runtime";"os/signal";"syscall";"io/ioutil";"strings")
func main(){
 var errs []string
 e:=func(n string,err error){if err!=nil{errs=append(errs,n+": "+err.Error())}}
 var wg sync.WaitGroup; for i:=0;i<16;i++{wg.Add(1);go func(){defer wg.Done();time.Sleep(time.Millisecond)}()}; wg.Wait()
 _,err:=exec.Command("/bin/echo","x").Output(); e("exec",err)
 _,err=exec.Command("/bin/sh","-c","echo x | cat").Output(); e("sh",err)
 f,err:=ioutil.TempFile("","x"); e("tempfile",err); if err==nil{f.Write([]byte("x"));f.Close();os.Remove(f.Name())}
 e("box",os.WriteFile("/box/o",[]byte("x"),0644)); os.Remove("/box/o")
 if runtime.NumCPU()<1 {errs=append(errs,"numcpu")}
 c:=make(chan os.Signal,1); signal.Notify(c,syscall.SIGUSR1); syscall.Kill(os.Getpid(),syscall.SIGUSR1)
 select{case <-c: case <-time.After(2*time.Second): errs=append(errs,"signal")}
 var rl syscall.Rlimit; e("getrlimit",syscall.Getrlimit(syscall.RLIMIT_NOFILE,&rl))
 runtime.GC()
 if len(errs)==0 {fmt.Println("ok")} else {fmt.Println(strings.Join(errs,"\\n"))}
}
`,
  c: `#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <time.h>
#include <signal.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
static void *th(void *a){return a;}
int errs=0;
#define CHECK(c,n) do{if(!(c)){printf("%s: %s\\n",n,strerror(errno));errs++;}}while(0)
int main(void){
 pthread_t t[8]; for(int i=0;i<8;i++)CHECK(pthread_create(&t[i],0,th,0)==0,"pthread"); for(int i=0;i<8;i++)pthread_join(t[i],0);
 FILE*p=popen("echo x | cat","r"); CHECK(p!=0,"popen"); if(p){char b[8];fgets(b,8,p);CHECK(pclose(p)==0,"pclose");}
 CHECK(system("true")==0,"system");
 pid_t c=fork(); if(c==0)_exit(3); int st; waitpid(c,&st,0); CHECK(WEXITSTATUS(st)==3,"fork");
 void*m=mmap(0,1<<20,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); CHECK(m!=MAP_FAILED,"mmap");
 FILE*f=tmpfile(); CHECK(f!=0,"tmpfile");
 struct timespec ts; CHECK(clock_gettime(CLOCK_MONOTONIC,&ts)==0,"clock");
 struct rlimit rl; CHECK(getrlimit(RLIMIT_NOFILE,&rl)==0,"getrlimit"); CHECK(setrlimit(RLIMIT_NOFILE,&rl)==0,"setrlimit");
 CHECK(isatty(1)==0,"isatty");
 double l[3]; getloadavg(l,3);
 CHECK(sysconf(_SC_NPROCESSORS_ONLN)>0,"nprocs");
 char *big=malloc(64<<20); CHECK(big!=0,"malloc"); memset(big,1,64<<20); free(big);
 if(!errs)puts("ok"); return 0;}
`,
  cpp: `#include <iostream>
#include <thread>
#include <future>
#include <vector>
#include <fstream>
#include <chrono>
#include <mutex>
#include <filesystem>
int main(){
 std::vector<std::thread> v; std::mutex m; int n=0;
 for(int i=0;i<8;i++) v.emplace_back([&]{std::lock_guard<std::mutex> g(m); n++;});
 for(auto&t:v)t.join();
 auto f=std::async(std::launch::async,[]{return 7;});
 std::this_thread::sleep_for(std::chrono::milliseconds(5));
 { std::ofstream o("/box/o"); o<<"x"; }
 std::filesystem::copy_file("/box/o","/tmp/o2");
 std::filesystem::remove("/box/o");
 std::cout<<((n==8&&f.get()==7&&std::thread::hardware_concurrency()>0)?"ok":"bad")<<std::endl;
}
`,
  rust: `use std::process::Command; use std::thread; use std::sync::mpsc; use std::fs; use std::time::Duration;
fn main(){
 let mut errs=Vec::new();
 let (tx,rx)=mpsc::channel(); let hs:Vec<_>=(0..8).map(|i|{let tx=tx.clone(); thread::spawn(move||tx.send(i).unwrap())}).collect();
 for h in hs{h.join().unwrap();} drop(tx); if rx.iter().count()!=8{errs.push("threads".to_string());}
 match Command::new("/bin/sh").arg("-c").arg("echo x | cat").output(){Ok(o)=>if !o.status.success(){errs.push("cmd status".into())},Err(e)=>errs.push(format!("cmd: {}",e))}
 if let Err(e)=fs::write("/box/o","x"){errs.push(format!("write: {}",e))} let _=fs::copy("/box/o","/tmp/o2").map_err(|e|errs.push(format!("copy: {}",e))); let _=fs::remove_file("/box/o");
 thread::sleep(Duration::from_millis(5));
 let _=thread::available_parallelism().map_err(|e|errs.push(format!("par: {}",e)));
 if errs.is_empty(){println!("ok")}else{println!("{}",errs.join("\\n"))}
}
`,
  java: `import java.util.*; import java.util.concurrent.*; import java.nio.file.*; import java.io.*;
public class Main { public static void main(String[] a) throws Exception {
 List<String> errs=new ArrayList<>();
 try { ExecutorService ex=Executors.newFixedThreadPool(4); List<Future<Integer>> fs=new ArrayList<>(); for(int i=0;i<8;i++){final int k=i; fs.add(ex.submit(()->k));} int s=0; for(Future<Integer> f:fs)s+=f.get(); ex.shutdown(); if(s!=28)errs.add("pool"); } catch(Exception e){errs.add("pool: "+e);}
 try { Process p=new ProcessBuilder("/bin/sh","-c","echo x | cat").start(); if(p.waitFor()!=0)errs.add("process exit"); } catch(Exception e){errs.add("process: "+e);}
 try { Path t=Files.createTempFile("x",".t"); Files.writeString(t,"x"); Files.copy(t,Paths.get("/box/o"),StandardCopyOption.REPLACE_EXISTING); Files.delete(Paths.get("/box/o")); } catch(Exception e){errs.add("files: "+e);}
 try { WatchService w=FileSystems.getDefault().newWatchService(); Paths.get("/tmp").register(w,StandardWatchEventKinds.ENTRY_CREATE); w.close(); } catch(Exception e){errs.add("watch: "+e);}
 try { java.nio.channels.Selector sel=java.nio.channels.Selector.open(); sel.selectNow(); sel.close(); } catch(Exception e){errs.add("selector: "+e);}
 try { int s=java.util.stream.IntStream.range(0,10000).parallel().sum(); if(s!=49995000)errs.add("parallel"); } catch(Exception e){errs.add("parallel: "+e);}
 if(Runtime.getRuntime().availableProcessors()<1)errs.add("cpus");
 Thread.sleep(5);
 System.out.println(errs.isEmpty()?"ok":String.join("\\n",errs)); } }
`,
  csharp: `using System; using System.Threading; using System.Threading.Tasks; using System.Diagnostics; using System.IO; using System.Collections.Generic;
class M { static void Main() { var errs=new List<string>();
 try { var ts=new Task<int>[8]; for(int i=0;i<8;i++){int k=i; ts[i]=Task.Run(()=>k);} Task.WaitAll(ts); } catch(Exception e){errs.Add("tasks: "+e.Message);}
 try { var th=new Thread(()=>Thread.Sleep(5)); th.Start(); th.Join(); } catch(Exception e){errs.Add("thread: "+e.Message);}
 try { var p=Process.Start(new ProcessStartInfo("/bin/echo","x"){UseShellExecute=false,RedirectStandardOutput=true}); p.StandardOutput.ReadToEnd(); p.WaitForExit(); if(p.ExitCode!=0)errs.Add("proc exit"); } catch(Exception e){errs.Add("process: "+e.Message);}
 try { File.WriteAllText("/box/o","x"); File.Copy("/box/o","/tmp/o2",true); File.Delete("/box/o"); var t=Path.GetTempFileName(); File.Delete(t);} catch(Exception e){errs.Add("files: "+e.Message);}
 try { var w=new FileSystemWatcher("/tmp"); w.EnableRaisingEvents=true; w.Dispose(); } catch(Exception e){errs.Add("watcher: "+e.Message);}
 if(Environment.ProcessorCount<1)errs.Add("cpus");
 Console.WriteLine(errs.Count==0?"ok":string.Join("\\n",errs)); } }
`,
  ruby: `errs=[]
t=->(n,&b){begin; b.call; rescue Exception=>e; errs<<"#{n}: #{e.class}: #{e.message}"; end}
t.("threads"){ (1..8).map{|i| Thread.new{i}}.each(&:join) }
t.("system"){ raise "fail" unless system("echo x | cat >/dev/null") }
t.("popen"){ IO.popen(["/bin/echo","x"]).read }
t.("backtick"){ \`echo x\` }
t.("fork"){ pid=fork{ exit! 3 }; Process.wait(pid); raise "st" unless $?.exitstatus==3 }
t.("tempfile"){ require "tempfile"; f=Tempfile.new("x"); f.write("x"); f.close; f.unlink }
t.("box"){ File.write("/box/o","x"); File.delete("/box/o") }
t.("sleep"){ sleep 0.01 }
t.("nprocessors"){ require "etc"; Etc.nprocessors }
t.("io_console"){ require "io/console"; IO.console; $stdout.winsize rescue nil }
puts errs.empty? ? "ok" : errs.join("\\n")
`,
  php: `<?php
$errs=[];
$p=proc_open(["/bin/echo","x"],[1=>["pipe","w"]],$pipes); if(!$p)$errs[]="proc_open"; else {stream_get_contents($pipes[1]); proc_close($p);}
if(shell_exec("echo x | cat")!=="x\\n")$errs[]="shell_exec";
$t=tempnam(sys_get_temp_dir(),"x"); file_put_contents($t,"x"); copy($t,"/box/o"); unlink("/box/o"); unlink($t);
usleep(1000);
if(function_exists("sys_getloadavg")) sys_getloadavg();
echo $errs?implode("\\n",$errs):"ok", "\\n";
`,
  perl: `use strict; my @errs;
my $pid=fork(); if($pid==0){exit 3} waitpid($pid,0); push @errs,"fork" unless ($?>>8)==3;
my $o=\`echo x | cat\`; push @errs,"backtick" unless $o eq "x\\n";
system("true")==0 or push @errs,"system";
open(my $f,">","/box/o") or push @errs,"open: $!"; print $f "x"; close $f; unlink "/box/o";
select(undef,undef,undef,0.01);
print @errs? join("\\n",@errs) : "ok", "\\n";
`,
  bash: `errs=()
sleep 0.01 & wait $! || errs+=(bg)
x=$(echo x | cat) ; [ "$x" = x ] || errs+=(pipe)
t=$(mktemp) && echo x > "$t" && cp "$t" /box/o && rm /box/o "$t" || errs+=(files)
read -t 1 line < <(echo y) || errs+=(read)
ulimit -a > /dev/null || errs+=(ulimit)
( exit 3 ); [ $? = 3 ] || errs+=(subshell)
ls / >/dev/null || errs+=(ls)
sort <<< $'b\\na' >/dev/null || errs+=(sort)
timeout 5 true || errs+=(timeout)
nproc >/dev/null || errs+=(nproc)
[ \${#errs[@]} = 0 ] && echo ok || printf '%s\\n' "\${errs[@]}"
`,
  erlang: `-module(main).
-export([main/1]).
main(_) ->
  Self=self(), [spawn(fun() -> Self ! {done,I} end) || I <- lists:seq(1,100)],
  [receive {done,_} -> ok end || _ <- lists:seq(1,100)],
  "x\\n" = os:cmd("echo x | cat"),
  ok = file:write_file("/box/o", <<"x">>), ok = file:delete("/box/o"),
  timer:sleep(5),
  io:format("ok~n").
`,
  haskell: `import Control.Concurrent
import Control.Monad
import System.Process
import System.IO
main :: IO ()
main = do
  vs <- forM [1..8::Int] $ \\i -> do { v <- newEmptyMVar; _ <- forkIO (putMVar v i); return v }
  xs <- mapM takeMVar vs
  out <- readProcess "/bin/sh" ["-c","echo x | cat"] ""
  writeFile "/box/o" "x"
  threadDelay 5000
  putStrLn (if sum xs == 36 && out == "x\\n" then "ok" else "bad")
`,
  r: `errs <- c()
o <- system("echo x | cat", intern=TRUE); if (!identical(o, "x")) errs <- c(errs, "system")
f <- tempfile(); writeLines("x", f); invisible(file.copy(f, "/box/o")); invisible(file.remove("/box/o"))
r <- parallel::mclapply(1:4, function(i) i, mc.cores=2); if (sum(unlist(r)) != 10) errs <- c(errs, "mclapply")
Sys.sleep(0.01)
invisible(parallel::detectCores())
cat(if (length(errs)) paste(errs, collapse="\\n") else "ok", "\\n", sep="")
`,
  sbcl: `(require :sb-posix)
(let ((th (sb-thread:make-thread (lambda () 7))))
  (assert (= 7 (sb-thread:join-thread th))))
(let ((p (sb-ext:run-program "/bin/sh" '("-c" "echo x | cat") :output nil)))
  (assert (= 0 (sb-ext:process-exit-code p))))
(with-open-file (s "/box/o" :direction :output :if-exists :supersede) (write-string "x" s))
(delete-file "/box/o")
(sleep 0.01)
(format t "ok~%")
`,
  "swi-prolog": `:- initialization(main).
main :- thread_create(true, Id, []), thread_join(Id, true),
  shell('echo x | cat > /dev/null', 0),
  open('/box/o', write, S), write(S, x), close(S), delete_file('/box/o'),
  sleep(0.01), writeln(ok), halt.
`,
  ocaml: `let () =
  let ic = Unix.open_process_in "echo x | cat" in
  let l = input_line ic in ignore (Unix.close_process_in ic);
  let oc = open_out "/box/o" in output_string oc "x"; close_out oc; Sys.remove "/box/o";
  Unix.sleepf 0.01;
  print_endline (if l = "x" then "ok" else "bad")
`,
  octave: `[s,o]=system("echo x | cat"); f=tempname(); fid=fopen(f,"w"); fprintf(fid,"x"); fclose(fid); delete(f); pause(0.01); nproc(); if s==0 && strcmp(o,"x\\n") disp("ok"); else disp("bad"); end
`,
  elixir: `t = Task.async(fn -> 7 end); 7 = Task.await(t)
{"x\\n", 0} = System.cmd("/bin/sh", ["-c", "echo x | cat"])
File.write!("/box/o", "x"); File.rm!("/box/o")
Process.sleep(5)
IO.puts("ok")
`,
  kotlin: `import java.util.concurrent.*
fun main() {
  val ex = Executors.newFixedThreadPool(4); val s = (0 until 8).map { k -> ex.submit<Int> { k } }.map { it.get() }.sum(); ex.shutdown()
  val p = ProcessBuilder("/bin/sh","-c","echo x | cat").start(); val rc = p.waitFor()
  java.io.File("/box/o").writeText("x"); java.io.File("/box/o").delete()
  println(if (s == 28 && rc == 0) "ok" else "bad")
}
`,
};
