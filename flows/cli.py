"""The `evalprep` command: a thin registry of subcommands over the same flows the deployments run."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from evalprep.errors import InputError
from evalprep.settings import load_settings

DEMO_WEEKS = ("2016-W36", "2016-W37", "2016-W38", "2016-W39")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD（如 2016-10-02），收到「{text}」") from None


def _demo_generator():
    """The demo county generator lives beside the product, in the source checkout's demo/ (not in the wheel)."""
    try:
        from demo import generate_demo
    except ModuleNotFoundError:
        root = Path(__file__).resolve().parents[1]
        if not (root / "demo" / "__init__.py").is_file():
            raise InputError("演示县生成器只随源码提供：请在源码目录中运行 ./run.sh demo") from None
        sys.path.append(str(root))
        from demo import generate_demo
    return generate_demo


def cmd_generate_demo(args: argparse.Namespace) -> int:
    generate_demo = _demo_generator()
    manifest = generate_demo(Path(args.out), seed=args.seed, small=args.small, messy=args.messy)
    print(f"演示县已生成：{Path(args.out).resolve()}（{len(manifest['weeks'])} 周）")
    return 0


def check_run_inputs(inbox: Path | None, week: str | None, profile: str | None = None, as_of: dt.date | None = None,
                     townships: list[str] | None = None, villages: list[str] | None = None,
                     reference: Path | None = None) -> None:
    """Every argument and input of a run checked before Prefect and the flows load (flows.run_config, which
    imports nothing heavy): a bad one is a one-line error with exit status 2 within a second or two, and the
    flow's own resolve step raises the same error when a deployment calls it."""
    from flows.run_config import check_inputs

    check_inputs(str(inbox) if inbox else None, week, profile, as_of.isoformat() if as_of else None,
                 list(townships or []), list(villages or []), str(reference) if reference else None)


def cmd_run(args: argparse.Namespace) -> int:
    import os

    check_run_inputs(args.inbox, args.week, args.profile, args.as_of, args.township, args.village, args.reference)
    from flows.weekly import weekly_county_run

    flow_fn = weekly_county_run
    if args.dask:
        from flows.runners import dask_task_runner

        os.environ["EVALPREP_DASK_ADDRESS"] = args.dask  # and so Dask's worker processes render
        flow_fn = weekly_county_run.with_options(task_runner=dask_task_runner(args.dask))
    out = flow_fn(
        inbox=str(args.inbox),
        week=args.week,
        out=str(args.out) if args.out else None,
        profile=args.profile,
        as_of=args.as_of.isoformat() if args.as_of else None,
        townships=list(args.township or []),
        villages=list(args.village or []),
        reference=str(args.reference) if args.reference else None,
    )
    print(out)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    county = settings.demo_dir
    if not (county / "manifest.json").exists():
        generate_demo = _demo_generator()
        print(f"生成演示县：{county}")
        generate_demo(county, seed=args.seed)
    week = DEMO_WEEKS[-1]
    check_run_inputs(county / "inbox", week, reference=county / "reference")
    from flows.weekly import weekly_county_run

    out = weekly_county_run(inbox=str(county / "inbox"), week=week, out=str(args.out) if args.out else None,
                            reference=str(county / "reference"))
    print(out)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    if not args.village and not args.township:
        raise InputError("evalprep inspect：请至少指定一个 --village 村代码（12位）或 --township 镇代码（9位）")
    check_run_inputs(None, args.week, args.profile, None, args.township, args.village)
    from flows.inspection import inspection_run

    out = inspection_run(townships=list(args.township or []), villages=list(args.village or []), week=args.week,
                         out=str(args.out) if args.out else None, profile=args.profile)
    print(out)
    return 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    check_run_inputs(args.inbox, args.week, args.profile, reference=args.reference)
    from flows.rehearsal import rehearsal_run

    seed = {} if args.seed is None else {"seed": args.seed}  # default: the flow's (tasks.rehearsal.DEFAULT_SEED)
    out = rehearsal_run(inbox=str(args.inbox) if args.inbox else None, week=args.week,
                        out=str(args.out) if args.out else None, profile=args.profile,
                        reference=str(args.reference) if args.reference else None, **seed)
    print(out)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.serve import serve_deployments

    serve_deployments()
    return 0


def cmd_serve_files(args: argparse.Namespace) -> int:
    from evalprep.file_server import file_server

    folder = (args.folder or load_settings().out_dir).resolve()
    with file_server(folder, args.bind, args.port) as server:
        print(f"输出文件夹 {folder} 已共享：http://{args.bind}:{server.server_address[1]}/（按 Ctrl-C 停止）", flush=True)
        server.serve_forever()
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from evalprep.blank_template import write_blank_template

    print(write_blank_template(Path(args.out)).resolve())
    return 0


class ChineseHelpFormatter(argparse.HelpFormatter):
    """argparse's help with its own words in Chinese: "用法：" instead of "usage: "."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[override]
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block): exit status 2, the reason, where to read more;
    its help all in Chinese (section titles and -h too), for the office. Subcommands inherit both."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"evalprep: 参数错误：{message}（用 {self.prog} -h 查看用法）\n")


def _profile_help() -> str:
    """--profile's help: the catalogue's profile names (read light, without loading the catalogue module)."""
    from flows.run_config import profile_years

    names = "、".join(f"{name}（{year}年）" for name, year in profile_years().items())
    return f"评估标准，即按哪一套退出标准评定（默认 xunyang-2016）；可选：{names}"


OUT_HELP = "输出目录：结果写在其下以周次命名的子目录中（默认：数据目录下的 out，数据目录见 EVALPREP_DATA_DIR）"
REFERENCE_HELP = "参考数据目录（townships.csv、villages.csv、county.yaml），默认：数据目录下的 reference"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="evalprep", description="旬阳县脱贫退出第三方评估迎评准备：汇总各镇周报表，评定各村是否达到退出标准，生成档案和清单")
    sub = parser.add_subparsers(dest="command", required=True, title="命令", metavar="命令",
                                help="以下之一；用 evalprep 命令 -h 查看该命令的用法")
    profile_help = _profile_help()

    text = "生成演示县（各镇每周报表 + 参考数据 + 缺陷清单）"
    gen = sub.add_parser("generate-demo", help=text, description=text)
    gen.add_argument("--out", required=True, type=Path, metavar="目录",
                     help="演示县写入的目录（其中有收件箱 inbox、参考数据 reference 和清单 manifest.json）")
    gen.add_argument("--seed", type=int, default=2016, metavar="整数",
                     help="随机种子（默认 2016）：同一个种子生成完全相同的演示县")
    gen.add_argument("--small", action="store_true", help="只生成2个镇，供快速测试")
    gen.add_argument("--messy", action="store_true",
                     help="各镇按实际情况报送：标题行、合并表头、各种写法、CSV、坏文件、重报、逾期、漏报（清单含每个文件的预期结果和全部问题）")
    gen.set_defaults(func=cmd_generate_demo)

    text = "在演示县最新一周上运行每周流程（演示县不存在时先生成）"
    demo = sub.add_parser("demo", help=text, description=text)
    demo.add_argument("--out", type=Path, metavar="目录", help=OUT_HELP)
    demo.add_argument("--seed", type=int, default=2016, metavar="整数",
                      help="演示县尚未生成时，生成它所用的随机种子（默认 2016）；已生成的演示县不受影响")
    demo.set_defaults(func=cmd_demo)

    text = "对某一周的收件箱运行每周流程：校验各镇报表、评定各村、生成档案和清单"
    run = sub.add_parser("run", help=text, description=text)
    run.add_argument("--inbox", required=True, type=Path, metavar="目录", help="收件箱目录（含 YYYY-Www 子目录）")
    run.add_argument("--week", required=True, metavar="YYYY-Www", help="周次，如 2016-W39")
    run.add_argument("--out", type=Path, metavar="目录", help=OUT_HELP)
    run.add_argument("--profile", default="xunyang-2016", metavar="名称", help=profile_help)
    run.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="数据截止日期，默认该周周日")
    run.add_argument("--township", action="append", metavar="镇代码", help="只处理该镇（镇代码，可重复）")
    run.add_argument("--village", action="append", metavar="村代码", help="只生成该村档案（村代码，可重复）")
    run.add_argument("--reference", type=Path, metavar="目录", help=REFERENCE_HELP)
    run.add_argument("--dask", metavar="地址", help="在 Dask 集群上运行（tcp://主机:8786，或 local：本机两个工作进程）")
    run.set_defaults(func=cmd_run)

    text = "检查前按需生成某镇或某村的档案（用收件箱中的最新数据）"
    inspect = sub.add_parser("inspect", help=text, description=text)
    scope = inspect.add_argument_group("范围（至少一项）")
    scope.add_argument("--village", action="append", metavar="村代码", help="村代码（12位，可重复）")
    scope.add_argument("--township", action="append", metavar="镇代码", help="镇代码（9位，可重复）")
    inspect.add_argument("--week", metavar="YYYY-Www", help="周次，默认收件箱中最新的一周")
    inspect.add_argument("--out", type=Path, metavar="目录", help=OUT_HELP)
    inspect.add_argument("--profile", default="xunyang-2016", metavar="名称", help=profile_help)
    inspect.set_defaults(func=cmd_inspect)

    text = "模拟评估：按评估组抽样方式抽一次样本，生成抽中村名单和入户核查表"
    rehearse = sub.add_parser("rehearse", help=text, description=text)
    rehearse.add_argument("--week", required=True, metavar="YYYY-Www", help="周次，如 2016-W39")
    rehearse.add_argument("--seed", type=int, metavar="整数",
                          help="随机种子（默认与模拟相同）：同样的数据和种子抽到同样的村和户")
    rehearse.add_argument("--inbox", type=Path, metavar="目录", help="收件箱目录（含 YYYY-Www 子目录），默认按设置（EVALPREP_INBOX）")
    rehearse.add_argument("--out", type=Path, metavar="目录", help=OUT_HELP)
    rehearse.add_argument("--profile", default="xunyang-2016", metavar="名称", help=profile_help)
    rehearse.add_argument("--reference", type=Path, metavar="目录", help=REFERENCE_HELP)
    rehearse.set_defaults(func=cmd_rehearse)

    serve = sub.add_parser(
        "serve", help="注册并运行 Prefect 部署（每周定时 + 按需检查 + 模拟评估）；需要设置 PREFECT_API_URL",
        description="注册并运行 Prefect 部署（每周定时运行 + 按需检查 + 模拟评估），一直运行到按 Ctrl+C。"
                    "需要先启动 Prefect 服务器（另开一个终端运行 prefect server start），"
                    "并设置环境变量 PREFECT_API_URL 指向它，如 PREFECT_API_URL=http://127.0.0.1:4200/api；"
                    "每周运行的时间见 EVALPREP_WEEKLY_CRON（时区 EVALPREP_TIMEZONE）")
    serve.set_defaults(func=cmd_serve)

    text = "用 http 共享输出文件夹，供 Prefect 界面里的档案链接打开（配合 EVALPREP_PUBLIC_URL）"
    files = sub.add_parser("serve-files", help=text, description=text)
    files.add_argument("--folder", type=Path, metavar="文件夹", help="要共享的文件夹，默认输出文件夹（EVALPREP_OUT）")
    files.add_argument("--bind", default="127.0.0.1", metavar="地址",
                       help="监听地址（默认 127.0.0.1 只供本机；办公室其他电脑访问用本机IP或 0.0.0.0）")
    files.add_argument("--port", type=int, default=8080, metavar="端口", help="监听端口（默认 8080）")
    files.set_defaults(func=cmd_serve_files)

    text = "生成空白的乡镇周报表模板（含下拉列表和填报说明，可直接打印）"
    template = sub.add_parser("template", help=text, description=text)
    template.add_argument("--out", required=True, type=Path, metavar="文件",
                          help="模板保存的文件路径（.xlsx），如 旬阳县周报表模板.xlsx")
    template.set_defaults(func=cmd_template)
    return parser


def disk_message(error: OSError, out: Path | None) -> str:
    """One line, Chinese then English, for a run ended by a full or unwritable disk: which folder, what to do."""
    import errno

    folder = Path(error.filename).parent if error.filename else (out or load_settings().out_dir)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        zh = f"没有写入权限：{folder}（文件夹只读或无权限）"
        en = f"no permission to write to {folder}"
    else:
        zh = f"磁盘空间不足：{folder}（磁盘已满或超出配额）"
        en = f"disk full writing to {folder}"
    return (f"evalprep: {zh}。本次运行未发布，临时文件已删除，之前发布的各周未受影响；请腾出空间或改正权限后重新运行。"
            f" / {en}: this run published nothing and removed its temporary files; earlier weeks are intact."
            f" ({error.strerror})")


def main(argv: list[str] | None = None) -> int:
    from evalprep import stopping  # SIGTERM / SIGINT: stop within seconds, nothing half-made published

    args = build_parser().parse_args(argv)
    if args.command not in ("serve", "serve-files"):  # serve: Prefect's runner shuts down on its own
        stopping.install()
    try:
        return _main(args)
    except BaseException:
        if stopping.requested():
            stopping.finish()  # clean up, one line, exit 128 + signal
        raise


def _main(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:  # InputError and what the flows raise for bad inputs
        from evalprep.redaction import redact_text  # light; an ID typed into a reference file is echoed masked

        reason = redact_text(str(exc).replace("\r", " ").replace("\n", " "))
        print(f"evalprep: {reason}", file=sys.stderr)
        return 2
    except Exception as exc:
        from evalprep.files import disk_error

        if (error := disk_error(exc)) is None:
            raise
        from evalprep.redaction import redact_text

        print(redact_text(disk_message(error, getattr(args, "out", None))), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
