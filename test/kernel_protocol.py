"""Jupyter's kernel conformance suite (jupyter_kernel_test, Debian package python3-jupyter-kernel-test) against
the project's registered kernel, plus checks of what the suite does not look at: the error's name, message and
short traceback, execute_input, and kernel_info's versions.

Run by test/kernel-protocol.test.ts (which sets JUPYTER_PATH to the project's .jupyter folder):
    JUPYTER_PATH=.jupyter python3 test/kernel_protocol.py -v
"""
import json
import os
import sys
import unittest

try:
    import jupyter_kernel_test
    from jupyter_kernel_test.msgspec_v5 import validate_message
except ImportError as e:
    sys.stderr.write(f"jupyter_kernel_test is not installed for {sys.executable} ({e}): "
                     "apt-get install python3-jupyter-kernel-test (.ci/run does)\n")
    sys.exit(3)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def package_version(*parts):
    with open(os.path.join(ROOT, "node_modules", *parts, "package.json")) as f:
        return json.load(f)["version"]


class BackpropLabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "backprop-lab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("something on stderr")'
    code_generate_error = 'throw new Error("the real message " + 6 * 7)'
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "const half = 0.5;\nhalf * 3", "result": "1.5"},
        {"code": "[1, 2].map((x: number) => x * 10)", "result": "[ 10, 20 ]"},
    ]
    completion_samples = [
        {"text": "Math.ab", "matches": ["abs"]},
        {"text": "[1, 2].fla", "matches": ["flat", "flatMap"]},
    ]
    code_inspect_sample = "Math.abs"
    complete_code_samples = ["1", "const x = 1;", "function f() {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "let y = (1 +"]
    code_display_data = [
        {"code": 'import * as tslab from "tslab";\ntslab.display.html("<b>hi</b>")', "mime": "text/html"},
        {"code": 'import * as tslab from "tslab";\ntslab.display.markdown("*hi*")', "mime": "text/markdown"},
    ]

    # What the suite does not check.

    def test_error_content(self):
        """The error message and reply carry ename/evalue and a traceback with the cell line, not kernel frames."""
        self.flush_channels()
        reply, outputs = self.execute_helper("const answer = 42;\nthrow new RangeError(`the real message ${answer}`);")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual([m["msg_type"] for m in outputs], ["error"])
        for content in (reply["content"], outputs[0]["content"]):
            self.assertEqual(content["ename"], "RangeError")
            self.assertEqual(content["evalue"], "the real message 42")
            tb = content["traceback"]
            self.assertEqual(tb[0], "RangeError: the real message 42")
            self.assertRegex(tb[1], r"^    at In\[\d+\] line 2: throw new RangeError\(`the real message \$\{answer\}`\);$")
            self.assertEqual(len(tb), 2, tb)
            self.assertNotRegex("\n".join(tb), r"tslab|node:|evalmachine|node_modules")

    def test_error_in_function_of_earlier_cell(self):
        self.flush_channels()
        reply, _ = self.execute_helper("function half(x: number): number {\n  if (x < 0) throw new Error(`negative: ${x}`);\n  return x / 2;\n}")
        self.assertEqual(reply["content"]["status"], "ok")
        define_count = reply["content"]["execution_count"]
        reply, outputs = self.execute_helper("const v: number = -1;\nhalf(v)")
        self.assertEqual(reply["content"]["status"], "error")
        tb = outputs[0]["content"]["traceback"]
        self.assertEqual(tb[0], "Error: negative: -1")
        self.assertEqual(tb[1], f"    at half (In[{define_count}] line 2): if (x < 0) throw new Error(`negative: ${{x}}`);")
        self.assertEqual(tb[2], f"    at In[{reply['content']['execution_count']}] line 2: half(v)")

    def test_type_error(self):
        """A TypeScript diagnostic is an error named TSError with tslab's line:col - message text."""
        self.flush_channels()
        reply, outputs = self.execute_helper("let s: string = 1;")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual([m["msg_type"] for m in outputs], ["error"])
        content = outputs[0]["content"]
        self.assertEqual(content["ename"], "TSError")
        self.assertEqual(content["evalue"], "1:5 - Type 'number' is not assignable to type 'string'.")
        self.assertEqual(content["traceback"][1:], ["    let s: string = 1;", "        ^"])

    def test_thrown_non_error(self):
        self.flush_channels()
        reply, outputs = self.execute_helper('throw "plain"')
        self.assertEqual((reply["content"]["ename"], reply["content"]["evalue"]), ("Uncaught", "'plain'"))
        self.assertEqual(outputs[0]["content"]["traceback"], ["Uncaught 'plain'"])

    def test_execute_input_and_count(self):
        """execute_input comes first, with the code and the same count as the reply and the result."""
        self.flush_channels()
        msg_id = self.kc.execute("2 + 3")
        reply = self.get_non_kernel_info_reply(timeout=jupyter_kernel_test.TIMEOUT)
        validate_message(reply, "execute_reply", msg_id)
        kinds, counts = [], set()
        while True:
            msg = self.kc.get_iopub_msg(timeout=5)
            validate_message(msg, msg["msg_type"], msg_id)
            kinds.append(msg["msg_type"])
            if msg["msg_type"] in ("execute_input", "execute_result"):
                counts.add(msg["content"]["execution_count"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        self.assertEqual(kinds, ["status", "execute_input", "execute_result", "status"])
        self.assertEqual(counts, {reply["content"]["execution_count"]})

    def replies(self, msg_ids):
        """The shell replies to msg_ids, by id (iopub is flushed afterwards)."""
        got = {}
        while len(got) < len(msg_ids):
            reply = self.kc.get_shell_msg(timeout=jupyter_kernel_test.TIMEOUT)
            if reply["parent_header"].get("msg_id") in msg_ids:
                got[reply["parent_header"]["msg_id"]] = reply["content"]
        self.flush_channels()
        return [got[m] for m in msg_ids]

    def test_cell_sent_right_after_an_error_runs(self):
        """tslab aborted any request for 200 ms after an error; now only those queued when it failed."""
        self.flush_channels()
        failed, = self.replies([self.kc.execute('throw new Error("first")')])
        self.assertEqual(failed["status"], "error")
        after, = self.replies([self.kc.execute("40 + 2")])
        self.assertEqual(after["status"], "ok")

    def test_queued_cells_after_an_error_are_aborted(self):
        self.flush_channels()
        ids = [self.kc.execute('await new Promise((r) => setTimeout(r, 300));\nthrow new Error("slow failure")'),
               self.kc.execute("1")]
        failed, queued = self.replies(ids)
        self.assertEqual(failed["status"], "error")
        self.assertEqual(queued["status"], "abort")

    def test_stop_on_error_false_runs_the_queued_cells(self):
        self.flush_channels()
        ids = [self.kc.execute('await new Promise((r) => setTimeout(r, 300));\nthrow new Error("slow failure")',
                               stop_on_error=False),
               self.kc.execute("1")]
        failed, queued = self.replies(ids)
        self.assertEqual((failed["status"], failed["ename"], failed["evalue"]), ("error", "Error", "slow failure"))
        self.assertEqual(queued["status"], "ok")

    def test_silent_execution_publishes_no_input_or_result(self):
        self.flush_channels()
        reply, outputs = self.execute_helper("7 * 6", silent=True)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(outputs, [])

    def test_kernel_info_versions(self):
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        while True:
            reply = self.kc.get_shell_msg(timeout=jupyter_kernel_test.TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        validate_message(reply, "kernel_info_reply", msg_id)
        info = reply["content"]
        self.assertEqual(info["status"], "ok")
        self.assertEqual(info["language_info"]["version"], package_version("@tslab", "typescript-for-tslab"))
        self.assertEqual(info["implementation_version"], package_version("tslab"))

    def test_comm_info(self):
        self.flush_channels()
        msg_id = self.kc.comm_info()
        reply = self.get_non_kernel_info_reply(timeout=jupyter_kernel_test.TIMEOUT)
        validate_message(reply, "comm_info_reply", msg_id)
        self.assertEqual(reply["content"], {"status": "ok", "comms": {}})


if __name__ == "__main__":
    unittest.main()
