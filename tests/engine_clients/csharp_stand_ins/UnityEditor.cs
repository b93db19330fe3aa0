// STAND-INS, NOT THE REAL API: declarations of the UnityEditor, the Unity Test Framework and UnityEngine.Android members the Sora Unity package
// uses, with empty bodies, so tests/engine_clients/test_csharp_sources.py can compile the package's C#
// under Mono and catch inconsistencies in it (a renamed core method, a missing using, a type
// mismatch). They are written from the libraries' documentation; a mistake here can hide a
// mistake there, so the package still needs a real Unity build before a release.
using System;
using UnityEngine;
using Object = UnityEngine.Object;
namespace UnityEngine { public static class Application { public static bool isPlaying { get { return false; } } } }
namespace UnityEngine.Android { public static class Permission { public const string Microphone = "m"; public static bool HasUserAuthorizedPermission(string p) { return false; } public static void RequestUserPermission(string p) { } } }
namespace UnityEngine.TestTools { public sealed class UnityTestAttribute : Attribute { } }
namespace UnityEditor {
  public class Editor : ScriptableObject { public Object target { get { return null; } } public bool DrawDefaultInspector() { return true; } public void Repaint() { } public virtual void OnInspectorGUI() { } }
  public sealed class CustomEditor : Attribute { public CustomEditor(Type t) { } }
  public sealed class InitializeOnLoadAttribute : Attribute { }
  public sealed class MenuItem : Attribute { public MenuItem(string p) { } public MenuItem(string p, bool v, int prio) { } }
  public enum MessageType { None, Info, Warning, Error }
  public static class EditorStyles { public static GUIStyle boldLabel { get { return null; } } }
  public static class EditorGUILayout { public static void Space() { } public static void LabelField(string a, string b) { } public static void LabelField(string a, GUIStyle s) { } public static Object ObjectField(string l, Object o, Type t, bool scene) { return o; } public static void HelpBox(string m, MessageType t) { } }
  public static class EditorGUIUtility { public static string systemCopyBuffer { get; set; } }
  public static class Undo { public static void RecordObject(Object o, string n) { } public static void RegisterCreatedObjectUndo(Object o, string n) { } }
  public static class EditorUtility { public static void SetDirty(Object o) { } public static bool DisplayDialog(string t, string m, string ok) { return true; } }
  public static class Selection { public static GameObject activeGameObject { get; set; } }
  public static class EditorApplication { public delegate void CallbackFunction(); public static CallbackFunction delayCall; }
}
