// The React counter the Leptos and Dioxus counters are compared with: @rivetkit/react's
// useActor on the test server's `counter` actor, `increment` and the `newCount` event.
import { createRivetKit } from "@rivetkit/react";
import { useState } from "react";
import { createRoot } from "react-dom/client";

const { useActor } = createRivetKit(globalThis.RIVET_ENDPOINT ?? "http://127.0.0.1:6420");

function Counter() {
	const [count, setCount] = useState(0);
	const counter = useActor({ name: "counter", key: ["react-counter"] });
	counter.useEvent("newCount", (n) => setCount(n));
	return (
		<div>
			<p>
				Count: <span id="count">{count}</span> ({counter.connStatus})
			</p>
			<button type="button" onClick={() => counter.connection?.increment(1)}>
				+1
			</button>
		</div>
	);
}

createRoot(document.getElementById("root")).render(<Counter />);
