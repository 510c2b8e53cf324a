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


def cmd_template(args: argparse.Namespace) -> int:
    from evalprep.blank_template import write_blank_template

    print(write_blank_template(Path(args.out)).resolve())
    return 0


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block): exit status 2, the reason, where to read more."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"evalprep: 参数错误：{message}（用 {self.prog} -h 查看用法）\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="evalprep", description="旬阳县脱贫退出第三方评估迎评准备")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate-demo", help="生成演示县（各镇每周报表 + 参考数据 + 缺陷清单）")
    gen.add_argument("--out", required=True, type=Path)
    gen.add_argument("--seed", type=int, default=2016)
    gen.add_argument("--small", action="store_true", help="只生成2个镇，供快速测试")
    gen.add_argument("--messy", action="store_true",
                     help="各镇按实际情况报送：标题行、合并表头、各种写法、CSV、坏文件、重报、逾期、漏报（清单含每个文件的预期结果和全部问题）")
    gen.set_defaults(func=cmd_generate_demo)

    demo = sub.add_parser("demo", help="在演示县最新一周上运行每周流程")
    demo.add_argument("--out", type=Path)
    demo.add_argument("--seed", type=int, default=2016)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="对某一周的收件箱运行每周流程")
    run.add_argument("--inbox", required=True, type=Path, help="收件箱目录（含 YYYY-Www 子目录）")
    run.add_argument("--week", required=True, help="周次，如 2016-W39")
    run.add_argument("--out", type=Path)
    run.add_argument("--profile", default="xunyang-2016")
    run.add_argument("--as-of", type=_date, help="数据截止日期，默认该周周日")
    run.add_argument("--township", action="append", help="只处理该镇（镇代码，可重复）")
    run.add_argument("--village", action="append", help="只生成该村档案（村代码，可重复）")
    run.add_argument("--reference", type=Path, help="参考数据目录（townships.csv、villages.csv）")
    run.add_argument("--dask", metavar="ADDRESS", help="在 Dask 集群上运行（tcp://主机:8786，或 local：本机两个工作进程）")
    run.set_defaults(func=cmd_run)
    inspect = sub.add_parser("inspect", help="检查前按需生成某镇或某村的档案（最新数据）")
    scope = inspect.add_argument_group("范围（至少一项）")
    scope.add_argument("--village", action="append", help="村代码（12位，可重复）")
    scope.add_argument("--township", action="append", help="镇代码（9位，可重复）")
    inspect.add_argument("--week", help="周次，默认收件箱中最新的一周")
    inspect.add_argument("--out", type=Path)
    inspect.add_argument("--profile", default="xunyang-2016")
    inspect.set_defaults(func=cmd_inspect)

    rehearse = sub.add_parser("rehearse", help="模拟评估：按评估组抽样方式抽一次样本，生成抽中村名单和入户核查表")
    rehearse.add_argument("--week", required=True, help="周次，如 2016-W39")
    rehearse.add_argument("--seed", type=int, help="随机种子（默认与模拟相同）：同样的数据和种子抽到同样的村和户")
    rehearse.add_argument("--inbox", type=Path, help="收件箱目录（含 YYYY-Www 子目录），默认按设置")
    rehearse.add_argument("--out", type=Path)
    rehearse.add_argument("--profile", default="xunyang-2016")
    rehearse.add_argument("--reference", type=Path, help="参考数据目录（townships.csv、villages.csv）")
    rehearse.set_defaults(func=cmd_rehearse)

    serve = sub.add_parser("serve", help="注册并运行 Prefect 部署（每周定时 + 按需检查 + 模拟评估）")
    serve.set_defaults(func=cmd_serve)

    template = sub.add_parser("template", help="生成空白的乡镇周报表模板（含下拉列表和填报说明）")
    template.add_argument("--out", required=True, type=Path)
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
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:  # InputError and what the flows raise for bad inputs
        from evalprep.redaction import redact_text  # light; an ID typed into a reference file is echoed masked

        reason = redact_text(str(exc).replace("\r", " ").replace("\n", " "))
        print(f"evalprep: {reason}", file=sys.stderr)
        return 2
    except Exception as exc:
        from tasks.publish import disk_error

        if (error := disk_error(exc)) is None:
            raise
        from evalprep.redaction import redact_text

        print(redact_text(disk_message(error, getattr(args, "out", None))), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
